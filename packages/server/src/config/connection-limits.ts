/**
 * Default bounds on open connections, derived from the descriptor limit so that connections can
 * never take the descriptors the member needs for its own files: WAL segments and the spare, the
 * state database and its journal, snapshot files, outgoing peer links, listening sockets, and
 * node's own (stdio, event loop, worker pipes).
 */

/** The descriptor limit assumed where it cannot be read (a common default soft limit). */
export const FALLBACK_OPEN_FILES = 1024;
/** Descriptors kept for the member's own files, at least (see {@link reservedDescriptors}). */
export const MIN_RESERVED_DESCRIPTORS = 64;

/** Connection limits of a member. */
export interface ConnectionLimits {
  client: number;
  peer: number;
}

/**
 * Descriptors kept out of the connection budget: 256 or a tenth of the limit, whichever is more,
 * but no more than half of a small limit (and never under {@link MIN_RESERVED_DESCRIPTORS}).
 * 256 covers the member's files with room to spare for a cluster of a few members.
 */
export function reservedDescriptors(openFiles: number): number {
  return Math.max(MIN_RESERVED_DESCRIPTORS, Math.min(256, Math.floor(openFiles / 2)), Math.floor(openFiles / 10));
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
