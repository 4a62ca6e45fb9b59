/**
 * Joining a running cluster (`--initial-cluster-state existing`): ask the members named in the
 * bootstrap configuration, on their peer URLs, for the cluster ID and the member list, and find
 * this member's ID there (it was assigned when the member was added through the members API).
 */
import { get } from 'node:http';
import { get as getTls } from 'node:https';
import type { MemberJSON } from '@deimos/protocol';
import type { PeerTlsOptions } from '../transport/index.js';

/** What a member's peer listener answers on `GET /members`. */
export interface PeerClusterInfo {
  clusterId: string;
  members: MemberJSON[];
}

/** This member could not find its place in the running cluster. */
export class JoinError extends Error {
  readonly code = 'ERR_JOIN';
  constructor(message: string) {
    super(message);
    this.name = 'JoinError';
  }
}

function fetchInfo(peerUrl: string, timeoutMs: number, tls: PeerTlsOptions | undefined): Promise<PeerClusterInfo> {
  return new Promise((resolve, reject) => {
    const url = `${peerUrl}/members`;
    // https peer URLs: this member's peer certificate is its client certificate.
    const secure = url.startsWith('https:');
    const req = (secure ? getTls : get)(url, { timeout: timeoutMs, ...(secure ? tls : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1024 * 1024) req.destroy(new Error('member list too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
          const info = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PeerClusterInfo;
          if (typeof info.clusterId !== 'string' || !Array.isArray(info.members)) throw new Error('malformed member list');
          resolve(info);
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/**
 * Asks each peer URL in turn (retrying until `deadlineMs`) and returns the cluster info together
 * with this member's entry, matched by its advertised peer URLs.
 */
export async function discoverCluster(peerUrls: readonly string[], ownPeerUrls: readonly string[], deadlineMs: number, tls?: PeerTlsOptions): Promise<{ info: PeerClusterInfo; self: MemberJSON }> {
  const own = new Set(ownPeerUrls.map(normalize));
  const errors: string[] = [];
  const stopAt = Date.now() + deadlineMs;
  while (Date.now() < stopAt) {
    for (const url of peerUrls) {
      if (own.has(normalize(url))) continue;
      try {
        const info = await fetchInfo(url, 2000, tls);
        const self = info.members.find((m) => m.peerURLs.some((u) => own.has(normalize(u))));
        if (!self) {
          throw new JoinError(`the cluster at ${url} has no member with peer URLs ${[...own].join(',')}; add it first (POST /v2/members)`);
        }
        return { info, self };
      } catch (err) {
        if (err instanceof JoinError) throw err;
        errors.push(`${url}: ${(err as Error).message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new JoinError(`could not reach the cluster to join it (${errors.slice(-3).join('; ') || 'no other member URLs given'})`);
}

/** Canonical form of a URL for comparison (localhost and 127.0.0.1 stay distinct, as etcd does). */
function normalize(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}
