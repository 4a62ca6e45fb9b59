/**
 * Joining a running cluster (`--initial-cluster-state existing`): ask the members named in the
 * bootstrap configuration, on their peer URLs, for the cluster ID and the member list, and find
 * this member's ID there (it was assigned when the member was added through the members API).
 */
import { setTimeout as delay } from 'node:timers/promises';
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

/** How often a join that keeps failing says so (the first failed round is reported at once). */
const PROGRESS_INTERVAL_MS = 5_000;

/** Where a join reports progress: each failed round's reasons, throttled. */
export type JoinProgress = (message: string, fields: Record<string, string>) => void;

/** `url: reason` for each URL, each once, in the order given. */
function reasons(lastError: ReadonlyMap<string, string>): string {
  return [...lastError].map(([url, error]) => `${url}: ${error}`).join('; ');
}

/**
 * Asks each peer URL in turn (retrying until `deadlineMs`) and returns the cluster info together
 * with this member's entry, matched by its advertised peer URLs. While no member answers, the
 * reasons are reported through `progress` (at once, then every few seconds).
 */
export async function discoverCluster(
  peerUrls: readonly string[], ownPeerUrls: readonly string[], deadlineMs: number, tls?: PeerTlsOptions, progress?: JoinProgress, stopping?: AbortSignal,
): Promise<{ info: PeerClusterInfo; self: MemberJSON }> {
  const own = new Set(ownPeerUrls.map(normalize));
  const others = [...new Set(peerUrls)].filter((url) => !own.has(normalize(url)));
  if (others.length === 0) throw new JoinError('no other member URLs given in --bootstrap-config to join through');
  const lastError = new Map<string, string>();
  const startedAt = Date.now();
  const stopAt = startedAt + deadlineMs;
  let nextReportAt = startedAt;
  while (Date.now() < stopAt) {
    for (const url of others) {
      try {
        const info = await fetchInfo(url, 2000, tls);
        const self = info.members.find((m) => m.peerURLs.some((u) => own.has(normalize(u))));
        if (!self) {
          throw new JoinError(`the cluster at ${url} has no member with peer URLs ${[...own].join(',')}; add it first (POST /v2/members)`);
        }
        return { info, self };
      } catch (err) {
        if (err instanceof JoinError) throw err;
        lastError.set(url, (err as Error).message);
      }
    }
    if (progress && Date.now() >= nextReportAt) {
      nextReportAt = Date.now() + PROGRESS_INTERVAL_MS;
      const leftS = Math.max(0, Math.ceil((stopAt - Date.now()) / 1000));
      progress(`cannot reach the cluster to join yet; retrying for ${leftS} s more`, { errors: reasons(lastError) });
    }
    try {
      await delay(500, undefined, stopping !== undefined ? { signal: stopping } : {});
    } catch (err) {
      if (stopping?.aborted) throw new JoinError('stopped while waiting to join the cluster');
      throw err;
    }
  }
  throw new JoinError(`could not reach the cluster to join it within ${Math.round(deadlineMs / 1000)} s (${reasons(lastError)})`);
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
