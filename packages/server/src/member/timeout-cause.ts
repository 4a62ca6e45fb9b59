/**
 * What a write that timed out says about why, in etcd 3.4's words (its `parseProposeCtxErr`), so
 * that clients and operators read the same cause from deimos as from etcd: a leader elected after
 * the request started, with the previous one lost around its start, is "possibly due to previous
 * leader failure"; a leader not connected to a quorum, or a follower not connected to its leader,
 * since the request started, is "possibly due to connection lost".
 */

export const TIMEOUT = 'etcdserver: request timed out';
export const TIMEOUT_LEADER_FAIL = 'etcdserver: request timed out, possibly due to previous leader failure';
export const TIMEOUT_CONNECTION_LOST = 'etcdserver: request timed out, possibly due to connection lost';
/** A write still waiting when the member stops (it was removed, or told to stop): outcome unknown, as etcd says. */
export const SERVER_STOPPED = 'etcdserver: server stopped';

/** The cause of each timeout kind a worker is told over the channel (records.ts), and back. */
const CAUSE_OF_KIND = {
  'timeout': TIMEOUT,
  'timeout-leader-fail': TIMEOUT_LEADER_FAIL,
  'timeout-connection-lost': TIMEOUT_CONNECTION_LOST,
  'server-stopped': SERVER_STOPPED,
} as const;
export type TimeoutKind = keyof typeof CAUSE_OF_KIND;

export function causeOfTimeout(kind: TimeoutKind): string {
  return CAUSE_OF_KIND[kind];
}

export function timeoutKindOf(cause: string | undefined): TimeoutKind {
  if (cause === TIMEOUT_LEADER_FAIL) return 'timeout-leader-fail';
  if (cause === TIMEOUT_CONNECTION_LOST) return 'timeout-connection-lost';
  if (cause === SERVER_STOPPED) return 'server-stopped';
  return 'timeout';
}

/** What the member knows when a request times out (times on one monotonic clock, in ms). */
export interface TimeoutView {
  /** When the request started. */
  startedMs: number;
  /** When this member last saw a new leader elected (-Infinity if never). */
  leaderElectedMs: number;
  /** Twice the election timeout: how long before an election the previous leader may have been lost. */
  electionSpanMs: number;
  /** The leader now ('0' when none), and this member. */
  leader: string;
  selfId: string;
  /** The other voting members. */
  peers: readonly string[];
  /** Since when a peer is reachable (undefined if it is not). */
  activeSince(id: string): number | undefined;
}

function connectedSince(view: TimeoutView, id: string): boolean {
  const t = view.activeSince(id);
  return t !== undefined && t < view.startedMs;
}

/** The cause text of a timed-out write (see the module comment). */
export function timeoutCause(view: TimeoutView): string {
  const prevLeaderLost = view.leaderElectedMs - view.electionSpanMs;
  if (view.startedMs > prevLeaderLost && view.startedMs < view.leaderElectedMs) return TIMEOUT_LEADER_FAIL;
  if (view.leader === '0') return TIMEOUT;
  if (view.leader === view.selfId) {
    const connected = 1 + view.peers.filter((id) => connectedSince(view, id)).length;
    return connected >= Math.floor((view.peers.length + 1) / 2) + 1 ? TIMEOUT : TIMEOUT_CONNECTION_LOST;
  }
  return connectedSince(view, view.leader) ? TIMEOUT : TIMEOUT_CONNECTION_LOST;
}
