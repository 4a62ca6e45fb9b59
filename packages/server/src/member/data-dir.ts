/**
 * Making (or checking) the data directory before anything is written to it. Each problem is one
 * sentence naming the path: node's recursive mkdir spins for ever on a parent that refuses mkdir
 * with ENOENT (`/proc/nope`) and says only "EEXIST" for a path that is a file, so the directories
 * are made one level at a time here. A start that fails before the member ran can take back what
 * it made ({@link PreparedDataDir.discardNew}), so no half-made data directory is left behind.
 */
import { accessSync, constants, lstatSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The data directory cannot be made or used; the message names the path and the reason. */
export class DataDirError extends Error {
  readonly code = 'ERR_DATA_DIR';
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** A data directory ready for use, and what this start added to it. */
export interface PreparedDataDir {
  path: string;
  /**
   * Removes what this start made: the directories it created, or else the entries that were not
   * there before. Only for a start that never ran (the caller holds the directory's lock).
   */
  discardNew(): void;
  /**
   * Set when the directory existed with access for its group or others (etcd warns of the same):
   * what this member writes there is private (the process's umask drops those bits), but the
   * directory itself lets others list it, or read what was put there before.
   */
  openPermissions?: string;
}

/** `ENOENT: no such file or directory` from node's `ENOENT: no such file or directory, mkdir '/x'`. */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return (e.message ?? String(err)).split(', ')[0] ?? e.code ?? 'unknown error';
}

function statOrUndefined(path: string, dataDir: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    // ENOTDIR: a parent is a file; the walk up finds it and names it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new DataDirError(`--data-dir ${dataDir}: cannot use ${path}: ${reason(err)}`);
  }
}

/** Makes `path` and missing parents one level at a time; returns the topmost directory made. */
function makeDirs(path: string, dataDir: string, mode: number): string | undefined {
  const stats = statOrUndefined(path, dataDir);
  if (stats !== undefined) {
    if (!stats.isDirectory()) {
      throw new DataDirError(path === dataDir ? `--data-dir ${dataDir}: not a directory (a file of that name exists)` : `--data-dir ${dataDir}: ${path} is not a directory`);
    }
    return undefined;
  }
  const parent = dirname(path);
  if (parent === path) throw new DataDirError(`--data-dir ${dataDir}: ${path} does not exist`);
  const top = makeDirs(parent, dataDir, mode);
  try {
    mkdirSync(path, { mode });
  } catch (err) {
    // Made by someone else in between: fine if it is a directory now.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statOrUndefined(path, dataDir)?.isDirectory()) {
      throw new DataDirError(`--data-dir ${dataDir}: cannot create the directory ${path}: ${reason(err)}`);
    }
  }
  return top ?? path;
}

/**
 * What etcd left in `path`, if it is etcd's data directory (its `member/` with `wal/` or `snap/`)
 * or etcd's `member/` directory itself (`snap/db`, the bbolt file, which deimos never writes).
 * Started there, deimos would take it for an empty directory and begin a new, empty cluster beside
 * etcd's files, or read etcd's WAL as damaged deimos segments.
 */
function etcdLayout(path: string): string | undefined {
  const isDir = (p: string) => statOrUndefined(p, path)?.isDirectory() === true;
  if (isDir(join(path, 'member', 'wal')) || isDir(join(path, 'member', 'snap'))) return `${join(path, 'member')} (an etcd data directory)`;
  if (statOrUndefined(join(path, 'snap', 'db'), path)?.isFile() === true) return `${join(path, 'snap', 'db')} (an etcd member directory)`;
  return undefined;
}

/** Removes an empty directory; false when it is not empty (or gone, or cannot be removed). */
function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Makes the data directory (mode 0700) if needed and checks that it is a writable directory. */
export function prepareDataDir(path: string): PreparedDataDir {
  const before = statOrUndefined(path, path)?.isDirectory() ? new Set(readdirSync(path)) : undefined;
  const etcd = before === undefined ? undefined : etcdLayout(path);
  if (etcd !== undefined) {
    throw new DataDirError(`--data-dir ${path} holds etcd's files: ${etcd}; deimos cannot read them and does not start beside them (give it a directory of its own)`);
  }
  const made = makeDirs(path, path, 0o700);
  try {
    accessSync(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new DataDirError(`--data-dir ${path}: not writable: ${reason(err)}`);
  }
  const mode = before !== undefined ? statSync(path).mode & 0o777 : 0o700;
  return {
    path,
    ...((mode & 0o077) !== 0 ? { openPermissions: `data directory ${path} has permissions ${mode.toString(8).padStart(4, '0')}; 0700 keeps other users of this host out of the keyspace (chmod 700 ${path})` } : {}),
    discardNew: () => {
      if (made !== undefined) {
        // The data directory with what is in it, then each parent this start made while it is
        // empty: members started together may have made their own directories in a parent made
        // here (`cluster/node2.deimos` beside `cluster/node1.deimos`), and removing the parent
        // recursively took theirs (a running member's) with it.
        rmSync(path, { recursive: true, force: true });
        for (let dir = path; dir !== made && dir !== dirname(dir);) {
          dir = dirname(dir);
          if (!removeIfEmpty(dir)) break;
        }
        return;
      }
      for (const entry of readdirSync(path)) if (!before?.has(entry)) rmSync(join(path, entry), { recursive: true, force: true });
    },
  };
}

/**
 * Where the symlink at `path` leads, through a chain of links, when nothing is there at the end (a
 * dangling link), else undefined: a file opened through it is made at that final target, which a
 * refused start must take back (and only it: the links are the operator's).
 */
export function danglingLinkTarget(path: string): string | undefined {
  let at = path;
  // The kernel follows at most 40 links; a longer chain or a loop cannot be opened anyway.
  for (let hops = 0; hops <= 40; hops++) {
    try {
      if (!lstatSync(at).isSymbolicLink()) return undefined; // a file (or directory) is there
      at = resolve(dirname(at), readlinkSync(at));
    } catch (err) {
      // Nothing at the end of a chain of at least one link: where the open makes the file.
      return hops > 0 && (err as NodeJS.ErrnoException).code === 'ENOENT' ? at : undefined;
    }
  }
  return undefined;
}
