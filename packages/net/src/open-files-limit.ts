/**
 * The process's soft limit on open file descriptors (RLIMIT_NOFILE), which the member's and the
 * proxy's default connection bounds are derived from. Node has no getrlimit; Linux shows the limits
 * of a process in /proc/self/limits (parsed by protocol's pure parseOpenFilesLimit). Node raises
 * its soft limit to the hard one at start-up, so this is read after.
 */
import { readFileSync } from 'node:fs';
import { parseOpenFilesLimit } from '@deimos/protocol';

/** Where Linux shows the limits of a process. */
export const PROC_LIMITS_FILE = '/proc/self/limits';

/**
 * This process's soft open-files limit, with `read` reading {@link PROC_LIMITS_FILE}; undefined where
 * it cannot be read (not Linux, no /proc): the caller falls back to a fixed limit.
 */
export function readOpenFilesLimit(read: (path: string) => string = (path) => readFileSync(path, 'latin1')): number | undefined {
  let text: string;
  try {
    text = read(PROC_LIMITS_FILE);
  } catch (err) {
    if (['ENOENT', 'EACCES', 'EPERM'].includes((err as { code?: string }).code ?? '')) return undefined;
    throw err;
  }
  return parseOpenFilesLimit(text);
}
