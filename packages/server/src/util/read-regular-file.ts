/**
 * Reads a data-directory file that must be a regular file. Opening a FIFO for reading blocks until
 * a writer comes, in a synchronous call on the member's thread, where no signal handler can run:
 * a FIFO put in place of a WAL segment or bootstrap.json hung the start for ever, SIGTERM included.
 * The open does not block (O_NONBLOCK; no effect on a regular file), and anything but a regular
 * file is refused by name.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** Thrown for a path that exists but is not a regular file. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';

  constructor(readonly path: string, kind: string) {
    super(`not a regular file (${kind})`);
    this.name = 'NotRegularFileError';
  }
}

/** The file's bytes; throws node's errors (ENOENT, EACCES, EISDIR...) or {@link NotRegularFileError}. */
export function readRegularFileSync(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new NotRegularFileError(path, stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a FIFO' : stat.isSocket() ? 'a socket' : 'a device');
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
