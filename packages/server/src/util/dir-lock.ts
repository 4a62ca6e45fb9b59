/**
 * An exclusive lock on a data directory that the kernel releases when its holder dies.
 *
 * Node has no flock(2). A PID file is not enough: a zombie or an unrelated process that reused the
 * PID blocks the restart of a member that was killed. So the lock is SQLite's own: `LOCK` is a small
 * SQLite database opened with `locking_mode=EXCLUSIVE`, and a write transaction takes SQLite's
 * EXCLUSIVE lock (fcntl byte-range locks), which this connection keeps until it closes. The kernel
 * drops fcntl locks when the process exits in any way (kill -9 included), and they are not
 * inherited by child processes. Taking it costs a few milliseconds (measured 5-10 ms: one small file and one write).
 *
 * An abstract unix socket (`\0deimos-lock-<hash of realpath>`) was the alternative: also freed by
 * the kernel, but scoped to the network namespace rather than to the file, so two containers
 * sharing a data directory through a volume would both get it. The file lock follows the directory.
 */
import Database from 'better-sqlite3';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  readonly code = 'ERR_DATA_DIR_LOCKED';
  constructor(dir: string) {
    super(`data directory ${dir} is in use by another deimos process (its lock ${join(dir, 'LOCK')} is held); refusing to start`);
    this.name = 'DataDirLockedError';
  }
}

/** A held lock; release it on shutdown. */
export interface DirLock {
  release(): void;
  /**
   * Checks every `intervalMs` that `LOCK` is still the file this lock holds. An operator who
   * deletes it (taking it for a stale lock file) would let a second process in beside this one, and
   * the two would write the same WAL (found corrupt at the next start): the lock is taken again on
   * a new file at once (`retaken`), before a second process, which takes longer to start, gets to
   * it; when one did, this member must stop (`lost`). Stopped by {@link release}.
   */
  guard(intervalMs: number, handlers: { retaken(): void; lost(err: Error): void }): void;
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/** Takes the lock of `dir` or throws {@link DataDirLockedError}. */
export function lockDataDir(dir: string): DirLock {
  let held = takeLock(dir);
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      if (timer !== undefined) clearInterval(timer);
      held.db.close(); // the file stays: removing it could let a third process lock a new inode
    },
    guard: (intervalMs, handlers) => {
      timer = setInterval(() => {
        if (inodeOf(held.path) === held.inode) return;
        try {
          const next = takeLock(dir);
          held.db.close();
          held = next;
          handlers.retaken();
        } catch (err) {
          clearInterval(timer);
          handlers.lost(new Error(`the data directory's lock ${held.path} was removed while this member ran, and could not be taken again: ${(err as Error).message}`));
        }
      }, intervalMs);
      timer.unref();
    },
  };
}

/** The inode of `path`, or -1 when it is gone. */
function inodeOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}

interface HeldLock {
  path: string;
  db: Database.Database;
  inode: number;
}

function takeLock(dir: string): HeldLock {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; ; attempt++) {
    // timeout 0: a held lock is answered at once, not after SQLite's busy wait.
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: 0 });
    } catch (err) {
      throw lockFileError(path, err);
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL)');
      // A real write: CREATE ... IF NOT EXISTS alone writes nothing once the table exists.
      db.transaction(() => {
        db.exec('DELETE FROM owner');
        db.prepare('INSERT INTO owner (pid) VALUES (?)').run(process.pid);
      }).exclusive();
      return { path, db, inode: inodeOf(path) };
    } catch (err) {
      db.close();
      const code = (err as { code?: string }).code ?? '';
      if (BUSY.has(code)) throw new DataDirLockedError(dir);
      // A PID-file LOCK from an older deimos (plain text, not a database), or a damaged one: nothing
      // holds it now (a holder's EXCLUSIVE lock would have answered BUSY before any page was read).
      if ((code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) && attempt === 0) {
        rmSync(path, { force: true });
        rmSync(`${path}-journal`, { force: true });
        continue;
      }
      throw lockFileError(path, err);
    }
  }
}

/** A lock file that cannot be used (a directory in its place, no permission): one line naming it. */
function lockFileError(path: string, err: unknown): Error {
  const e = err as Error & { code?: string };
  return Object.assign(new Error(`cannot take the data directory's lock ${path} (or its ${path}-journal): ${e.message}`), { code: e.code ?? 'ERR_DATA_DIR_LOCK' });
}
