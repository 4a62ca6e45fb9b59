/**
 * `GET /dashboard/api/cluster`: every member's state for the dashboard's Cluster view, gathered by
 * this member. The page may only talk to its own origin (its Content-Security-Policy says
 * `connect-src 'self'`, and the members' CORS need not allow it), so this member asks the others:
 * their `/v2/stats/self` and `/metrics` (term, commit, applied and store index), and the leader's
 * `/v2/stats/leader` for follower latencies. A member that does not answer within
 * {@link PEER_TIMEOUT_MS} is reported down with the reason.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DashboardMemberStatus, MemberJSON } from '@deimos/protocol';
import type { MemberView } from './member-view.js';
import { isRemoteKeys } from './keys-access.js';
import { sendBody, sendMethodNotAllowed } from './respond.js';

/** Longest wait for another member's answer. */
const PEER_TIMEOUT_MS = 1500;
/** Largest answer read from another member. */
const MAX_ANSWER_BYTES = 1 << 20;

/** Latency of a follower as the leader measures it (ms). */
interface Latency {
  current: number;
  average: number;
  maximum: number;
}

/** One member in the answer. */
type MemberStatus = DashboardMemberStatus;

/** TLS material for https client URLs: this member's own client credentials and CA. */
function tlsOptions(member: MemberView): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const tls = member.config.clientTls;
  if (tls === undefined) return {};
  return {
    ca: tls.trustedCaFile !== undefined ? readFileSync(tls.trustedCaFile) : undefined,
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
  };
}

/** GET of `url`, its body as text; rejects on a non-200 answer, a timeout or an oversized body. */
function fetchText(url: string, tls: () => { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = { method: 'GET', timeout: PEER_TIMEOUT_MS, headers: { Accept: '*/*' } };
    const req = u.protocol === 'https:' ? httpsRequest(u, { ...options, ...tls() }) : httpRequest(u, options);
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${PEER_TIMEOUT_MS} ms`)), PEER_TIMEOUT_MS);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PEER_TIMEOUT_MS} ms`)));
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error('answer too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(deadline);
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
    });
    req.end();
  });
}

/** The value of an unlabelled gauge in Prometheus text, or undefined. */
function gauge(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The state of another member, asked over its first client URL. */
async function remoteStatus(m: MemberJSON, tls: () => { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<MemberStatus> {
  const base: MemberStatus = { id: m.id, name: m.name, clientURLs: m.clientURLs, peerURLs: m.peerURLs, up: false, isLeader: false };
  const url = m.clientURLs[0];
  if (url === undefined) return { ...base, error: 'no client URL published (not started yet?)' };
  try {
    const [selfText, metricsText] = await Promise.all([fetchText(`${url}/v2/stats/self`, tls), fetchText(`${url}/metrics`, tls)]);
    const self = JSON.parse(selfText) as { state?: string; startTime?: string; leaderInfo?: { leader?: string } };
    return {
      ...base,
      name: m.name || String((self as { name?: string }).name ?? ''),
      up: true,
      isLeader: self.state === 'StateLeader',
      leaderId: self.leaderInfo?.leader,
      startTime: self.startTime,
      term: gauge(metricsText, 'deimos_raft_term'),
      commitIndex: gauge(metricsText, 'deimos_raft_commit_index'),
      appliedIndex: gauge(metricsText, 'deimos_raft_applied_index'),
      storeIndex: gauge(metricsText, 'deimos_store_index'),
    };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
}

/** Follower latencies from the leader's stats (this member's own, or fetched from the leader). */
async function followerLatencies(member: MemberView, leader: MemberJSON | undefined, tls: () => { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<Record<string, { latency?: Latency }>> {
  const own = await member.leaderStats();
  if (own !== undefined) return (own.followers ?? {}) as Record<string, { latency?: Latency }>;
  const url = leader?.clientURLs[0];
  if (url === undefined) return {};
  try {
    const stats = JSON.parse(await fetchText(`${url}/v2/stats/leader`, tls)) as { followers?: Record<string, { latency?: Latency }> };
    return stats.followers ?? {};
  } catch {
    return {};
  }
}

/** Serves `GET /dashboard/api/cluster`. */
export async function serveClusterStatus(member: MemberView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendMethodNotAllowed(res, 'GET, HEAD');
  let material: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined;
  const tls = () => (material ??= tlsOptions(member));
  const members = await member.members();
  const facts = member.raft();
  const self = (await member.selfStats()) as { startTime?: string };
  const statuses = await Promise.all(members.map((m) => {
    // A client worker knows the raft facts only as of the primary's last status record, so it asks
    // its own member over HTTP, as it asks the others (the answer then comes from the primary).
    if (m.id !== member.memberId || isRemoteKeys(member.keys)) return remoteStatus(m, tls);
    return Promise.resolve<MemberStatus>({
      id: m.id, name: m.name, clientURLs: m.clientURLs, peerURLs: m.peerURLs, up: true, isLeader: facts.isLeader,
      leaderId: facts.leaderId === '0' ? '' : facts.leaderId, startTime: self.startTime,
      term: facts.term, commitIndex: facts.commitIndex, appliedIndex: facts.appliedIndex, storeIndex: member.keys.index,
    });
  }));
  // The leader as the members that answer see it: this member's view first, else the majority's.
  let leaderId = facts.leaderId === '0' ? '' : facts.leaderId;
  if (leaderId === '') leaderId = statuses.find((s) => s.isLeader)?.id ?? '';
  const latencies = await followerLatencies(member, members.find((m) => m.id === leaderId), tls);
  for (const s of statuses) {
    const l = latencies[s.id]?.latency;
    // A member that does not answer has no current latency: the leader's last sample is from before.
    if (l !== undefined && s.id !== leaderId && s.up) s.latency = { current: l.current, average: l.average, maximum: l.maximum };
  }
  const body = JSON.stringify({ servedBy: member.config.name, leaderId, members: statuses });
  sendBody(res, 200, 'application/json', body, { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
}
