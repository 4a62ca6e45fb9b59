/**
 * The process's limit on open file descriptors (the soft RLIMIT_NOFILE), which the default
 * connection limits are derived from. Node has no getrlimit; Linux shows the limits of a process in
 * /proc/self/limits. Node raises its soft limit to the hard one at start-up, so this is read after.
 */
import { readFileSync } from 'node:fs';
import { parseOpenFilesLimit } from '@deimos/protocol';

export { parseOpenFilesLimit } from '@deimos/protocol';

/** Where the limits of this process are shown (Linux). */
const LIMITS_FILE = '/proc/self/limits';

/** This process's soft limit on open files; undefined where it cannot be read (not Linux). */
export function readOpenFilesLimit(read: (path: string) => string = (path) => readFileSync(path, 'latin1')): number | undefined {
  let text: string;
  try {
    text = read(LIMITS_FILE);
  } catch (err) {
    // Not Linux (or no /proc): the caller falls back to a fixed limit.
    if (['ENOENT', 'EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  return parseOpenFilesLimit(text);
}
