/**
 * Default bounds on open connections, derived from the descriptor limit so that connections can
 * never take the descriptors the member needs for its own files: WAL segments and the spare, the
 * state database and its journal, snapshot files, outgoing peer links, listening sockets, and
 * node's own (stdio, event loop, worker pipes). The reserve is shared with the proxy (@deimos/protocol).
 */
import { FALLBACK_OPEN_FILES, reservedDescriptors } from '@deimos/protocol';

export { FALLBACK_OPEN_FILES, MIN_RESERVED_DESCRIPTORS, reservedDescriptors } from '@deimos/protocol';

/** Connection limits of a member. */
export interface ConnectionLimits {
  client: number;
  peer: number;
}

/**
 * The default limits for a process allowed `openFiles` descriptors (undefined: unknown, then
 * {@link FALLBACK_OPEN_FILES}). Peers get an eighth of the budget, between 32 and 1024 (each member
 * opens a handful of connections: message streams, pipelined appends, snapshots); clients the rest,
 * at least 1. With the common 1024 limit: 96 peer and 672 client connections.
 */
export function defaultConnectionLimits(openFiles: number | undefined): ConnectionLimits {
  const limit = openFiles ?? FALLBACK_OPEN_FILES;
  const budget = Math.max(0, limit - reservedDescriptors(limit));
  const peer = Math.max(32, Math.min(1024, Math.floor(budget / 8)));
  return { peer, client: Math.max(1, budget - peer) };
}
