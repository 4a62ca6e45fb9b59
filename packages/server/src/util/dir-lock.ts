/**
 * An exclusive lock on a data directory: a `LOCK` file holding the owner's PID, created with O_EXCL.
 * A lock left by a process that no longer runs (kill -9) is taken over; a live owner is refused.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  readonly code = 'ERR_DATA_DIR_LOCKED';
  constructor(dir: string, pid: number) {
    super(`data directory ${dir} is in use by another deimos process (pid ${pid}); refusing to start`);
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; release it on shutdown. */
export interface DirLock {
  release(): void;
}

/** Takes the lock of `dir` or throws {@link DataDirLockedError}. */
export function lockDataDir(dir: string): DirLock {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (Number(readFileSync(path, 'utf8').trim()) === process.pid) unlinkSync(path);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        continue; // vanished between open and read: retry
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new DataDirLockedError(dir, owner);
      }
      unlinkSync(path); // stale lock of a dead process
    }
  }
  throw new Error(`could not lock data directory ${dir}`);
}
