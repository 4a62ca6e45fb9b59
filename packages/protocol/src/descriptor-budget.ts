/**
 * How many open file descriptors a process may give to connections: the member and the proxy both
 * derive their default connection bounds from the process's descriptor limit (the soft
 * RLIMIT_NOFILE, which Linux shows in /proc/self/limits), keeping some for everything else the
 * process opens. Plain code, so that server and proxy share it; reading the file is theirs.
 */

/** The descriptor limit assumed where it cannot be read (a common default soft limit). */
export const FALLBACK_OPEN_FILES = 1024;
/** Descriptors kept for the process's own files, at least (see {@link reservedDescriptors}). */
export const MIN_RESERVED_DESCRIPTORS = 64;

/**
 * Descriptors kept out of the connection budget: 256 or a tenth of the limit, whichever is more,
 * but no more than half of a small limit (and never under {@link MIN_RESERVED_DESCRIPTORS}).
 * 256 covers a member's files with room to spare for a cluster of a few members.
 */
export function reservedDescriptors(openFiles: number): number {
  return Math.max(MIN_RESERVED_DESCRIPTORS, Math.min(256, Math.floor(openFiles / 2)), Math.floor(openFiles / 10));
}

/**
 * The soft limit from the text of a /proc/<pid>/limits file (the "Max open files" row); undefined
 * when the row is missing or says "unlimited".
 */
export function parseOpenFilesLimit(limitsText: string): number | undefined {
  const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (row === null || !/^\d+$/.test(row[1]!)) return undefined;
  const soft = Number(row[1]);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
}
