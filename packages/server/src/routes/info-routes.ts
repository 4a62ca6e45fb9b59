/** `/version`, `/health`, `/machines` and `/metrics`: small read-only endpoints. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from './member-view.js';
import { sendBody, sendMethodNotAllowed } from './respond.js';
import { writePlainError } from '../http/method-guard.js';
import { DEIMOS_VERSION, ETCD_COMPAT_CLUSTER_VERSION, ETCD_COMPAT_SERVER_VERSION } from '../version.js';

/** GET /version. */
export function serveVersion(member: MemberView, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  // etcd's two fields only (tools compare the whole object); deimos's own version is a header.
  const body = JSON.stringify({ etcdserver: ETCD_COMPAT_SERVER_VERSION, etcdcluster: ETCD_COMPAT_CLUSTER_VERSION });
  // Which member answered: a watch's liveness check compares it with its watch's (X-Deimos-Member).
  sendBody(res, 200, 'application/json', body, { 'X-Deimos-Member': member.memberId, 'X-Deimos-Version': DEIMOS_VERSION });
}

/** GET /debug/vars: etcd's expvar page (see member/debug-vars.ts). */
export async function serveDebugVars(member: MemberView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  sendBody(res, 200, 'application/json; charset=utf-8', await member.debugVars());
}

/**
 * How long /health waits for its linearizable read, as etcd 3.4 bounds its QGET: a member that
 * still believes in a leader that lost its quorum answers unhealthy after this, not after the whole
 * request timeout (probes such as Kubernetes' give up after one second by default).
 */
const HEALTH_READ_TIMEOUT_MS = 1_000;

/** `promise`, or a rejection after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * GET /health: healthy when no alarm is raised (etcd 3.4 answers unhealthy under any alarm, NOSPACE
 * included) and a linearizable read succeeds within a second (a leader exists and has quorum).
 */
export async function serveHealth(member: MemberView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  // A client worker asks its primary for the alarms: one that does not answer within the read's
  // bound (stalled) is as unhealthy as an alarm.
  const alarms = await within(Promise.resolve(member.alarms()), HEALTH_READ_TIMEOUT_MS).catch(() => undefined);
  let healthy = member.raft().leaderId !== '0' && alarms !== undefined && alarms.length === 0;
  if (healthy) healthy = await member.linearizableRead(HEALTH_READ_TIMEOUT_MS).then(() => true, () => false);
  // etcd writes the healthy answer itself but the unhealthy one through http.Error (newline, nosniff).
  if (!healthy) return writePlainError(res, 503, '{"health":"false"}');
  sendBody(res, 200, 'text/plain; charset=utf-8', '{"health":"true"}');
}

/** GET/HEAD /machines and /v2/machines: every member's client URLs, joined by ", ". */
export async function serveMachines(member: MemberView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendMethodNotAllowed(res, 'GET,HEAD');
  const urls = (await member.members()).flatMap((m) => m.clientURLs).sort();
  sendBody(res, 200, 'text/plain; charset=utf-8', urls.join(', '));
}

/** /metrics in the Prometheus text format, to any method (HEAD without the body), as etcd's handler answers. */
export async function serveMetrics(member: MemberView, res: ServerResponse): Promise<void> {
  sendBody(res, 200, 'text/plain; version=0.0.4; charset=utf-8', await member.renderMetrics());
}

/** GET /deimos/hash: the keyspace hash and the indexes it reflects (for convergence checks). */
export async function serveHash(member: MemberView, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  sendBody(res, 200, 'application/json', JSON.stringify(await member.keyspaceHash()));
}
