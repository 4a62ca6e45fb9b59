/**
 * The process's limit on open file descriptors (the soft RLIMIT_NOFILE), which the default
 * connection limits are derived from. Node has no getrlimit; Linux shows the limits of a process in
 * /proc/self/limits (parsed in @deimos/protocol, shared with the proxy). Node raises its soft limit
 * to the hard one at start-up, so this is read after.
 */
import { readFileSync } from 'node:fs';
import { openFilesLimitFrom } from '@deimos/protocol';

export { parseOpenFilesLimit } from '@deimos/protocol';

/** This process's soft limit on open files; undefined where it cannot be read (not Linux). */
export function readOpenFilesLimit(read: (path: string) => string = (path) => readFileSync(path, 'latin1')): number | undefined {
  return openFilesLimitFrom(read);
}
