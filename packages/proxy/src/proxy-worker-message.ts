/**
 * The messages between the primary of a proxy with `--client-workers N` and its workers, on
 * node:cluster's IPC channel (proxy-workers.ts is the primary's end, proxy-worker-side.ts the
 * worker's).
 */
import type { MemberMarks } from './endpoint-pool.js';
import type { ListenAddress } from './self-address.js';

/** One member as the primary's discovery and health log see it. */
export interface DiscoveredMember extends MemberMarks {
  /** The member's client URL (`scheme://host:port`). */
  url: string;
  /** True from a failure until the member answers again (the primary logged it down). */
  down: boolean;
}

/** Messages between the primary and a worker. */
export type ProxyWorkerMessage =
  | { proxy: 'ready' }
  | { proxy: 'failed'; message: string; exitCode: number }
  | { proxy: 'metrics?'; id: number }
  | { proxy: 'render'; id: number }
  | { proxy: 'rendered'; id: number; text: string }
  | { proxy: 'metrics'; id: number; text: string }
  | { proxy: 'stop' }
  /** The primary got SIGHUP: read the TLS files again for new connections. */
  | { proxy: 'reload-tls' }
  /** A worker accepted a connection and asks for a slot of the proxy-wide --max-client-conns. */
  | { proxy: 'conn?' }
  /** The answer to the worker's oldest unanswered `conn?`. */
  | { proxy: 'conn'; granted: boolean }
  /** A granted connection closed. */
  | { proxy: 'conn-' }
  /**
   * A worker listens on `addresses` (the primary's discovery leaves them out of the member list)
   * and asks for the member list; answered with `members` once the first refresh has run.
   */
  | { proxy: 'members?'; addresses: ListenAddress[] }
  /** The member list, pushed to every worker whenever the primary's view of it changes. */
  | { proxy: 'members'; members: DiscoveredMember[] }
  /** A request a worker forwarded to `url` got no answer. */
  | { proxy: 'member-failed'; url: string; reason: string }
  /** A member the primary counts down answered a worker. */
  | { proxy: 'member-answered'; url: string }
  /** A worker asks for a member list refresh now; answered with `refreshed` after the new `members`. */
  | { proxy: 'refresh?'; id: number }
  | { proxy: 'refreshed'; id: number; learned: boolean };
