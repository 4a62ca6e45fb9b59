/**
 * Key-path helpers for the v2 keyspace. Paths reaching the store are already clean
 * (the HTTP layer answers `//`, `.` and `..` with a 301), so these only assert it.
 */
import assert from 'node:assert/strict';

/** The root directory's path. */
export const ROOT_PATH = '/';

/**
 * The cluster's own records (members, auth) live below this prefix of the replicated keyspace.
 * etcd keeps its own outside the keys namespace altogether, so its clients never meet them: the
 * keys API answers reads below it as absent and no watcher sees its events (a watch of `/` from
 * `waitIndex=1` gets the first client write, as on etcd, not a member's publish).
 */
export const RESERVED_PREFIX = '/_deimos';

/** Whether `path` is the reserved prefix or lies below it (see {@link RESERVED_PREFIX}). */
export function isReservedPath(path: string): boolean {
  // '_' is char 95: the common case is decided by one comparison.
  return path.charCodeAt(1) === 95 && isAtOrBelow(path, RESERVED_PREFIX);
}

/** Whether `path` is a clean absolute key path: `/`, or `/a/b` without empty or dot segments. */
export function isCleanPath(path: string): boolean {
  if (path === ROOT_PATH) return true;
  const n = path.length;
  if (n < 2 || path.charCodeAt(0) !== 0x2f || path.charCodeAt(n - 1) === 0x2f) return false;
  // A scan rather than split('/'): this runs several times for every write and read.
  let start = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && path.charCodeAt(i) !== 0x2f) continue;
    const len = i - start;
    if (len === 0) return false;
    if (len <= 2 && path.charCodeAt(start) === 0x2e && (len === 1 || path.charCodeAt(start + 1) === 0x2e)) return false;
    start = i + 1;
  }
  return true;
}

/** Asserts that `path` is clean (an invariant: the HTTP layer cleans every path). */
export function assertCleanPath(path: string): void {
  // (The message only on failure: this runs for every operation.)
  if (!isCleanPath(path)) assert.fail(`store path is not clean: ${JSON.stringify(path)}`);
}

/** The path segments of a clean path (`/` has none). */
export function pathSegments(path: string): string[] {
  return path === ROOT_PATH ? [] : path.slice(1).split('/');
}

/** Joins a directory path and a child name. */
export function childPath(dirPath: string, name: string): string {
  return dirPath === ROOT_PATH ? `/${name}` : `${dirPath}/${name}`;
}

/** The last segment of a clean path (`''` for the root). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Whether the node at a clean path is hidden (its name starts with `_`), as etcd decides for listings. */
export function isHiddenPath(path: string): boolean {
  return path.charCodeAt(path.lastIndexOf('/') + 1) === 0x5f; // '_'
}

/**
 * Whether `key` is hidden from a watcher on `watchPath`: some segment of `key` below
 * `watchPath` starts with `_`. A watch path deeper than the key (a watcher inside a deleted
 * directory) never hides it.
 */
export function isHiddenBelow(watchPath: string, key: string): boolean {
  if (watchPath.length > key.length) return false;
  let rest = key.slice(watchPath.length);
  if (!rest.startsWith('/')) rest = `/${rest}`;
  return rest.includes('/_');
}

/** Whether `path` equals `dirPath` or lies below it. */
export function isAtOrBelow(path: string, dirPath: string): boolean {
  if (dirPath === ROOT_PATH) return true;
  return path === dirPath || (path.startsWith(dirPath) && path.charCodeAt(dirPath.length) === 0x2f);
}

/** Whether `path` lies strictly below `dirPath`. */
export function isBelow(path: string, dirPath: string): boolean {
  return path !== dirPath && isAtOrBelow(path, dirPath);
}

/**
 * Compares two keys as Go compares strings (bytewise UTF-8, i.e. by code point), which is
 * how etcd orders `sorted=true` listings. Plain `<` compares UTF-16 code units and differs
 * when astral characters meet characters in U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
