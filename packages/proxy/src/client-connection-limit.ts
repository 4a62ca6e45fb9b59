/**
 * The default bound on the proxy's open client connections (--max-client-conns), derived from the
 * process's open-files limit as the member derives its own (the reserve and the /proc parsing are
 * shared in @deimos/protocol). Each client connection may take a second descriptor: a watch, or a
 * request under way, holds a connection to a member of its own. Past the bound, clients get a clear
 * 503 instead of the proxy running out of descriptors for its member connections.
 */
import { FALLBACK_OPEN_FILES, reservedDescriptors } from '@deimos/protocol';

export { readOpenFilesLimit } from '@deimos/net';

/**
 * The default bound for a process allowed `openFiles` descriptors (undefined: unknown, then the
 * common 1024): half of what is left after the reserve, at least 1. With 1024: 384 connections.
 */
export function defaultMaxClientConns(openFiles: number | undefined): number {
  const limit = openFiles ?? FALLBACK_OPEN_FILES;
  return Math.max(1, Math.floor((limit - reservedDescriptors(limit)) / 2));
}
