/**
 * Operational errors of store persistence (tier 2: stable string codes, never matched by text).
 */

/** Stable codes of `StoreStateError`. */
export type StoreStateErrorCode =
  /** The database was written by an incompatible schema version. */
  | 'SCHEMA_VERSION_MISMATCH'
  /** A snapshot (object or file) is not a Deimos store snapshot or has an unknown version. */
  | 'INVALID_SNAPSHOT'
  /** The state database's contents are damaged (SQLite's quick check, unreadable rows). */
  | 'DATABASE_DAMAGED'
  /** The file system refuses the state database or its -wal/-shm (permissions, a directory in its place). */
  | 'DATABASE_UNUSABLE';

/**
 * A failure a SQLite thread of the member reported (the commit thread, a snapshot copy), with
 * SQLite's code (SQLITE_FULL for a full disk, which the member's NOSPACE alarm reads).
 */
export class SqliteThreadError extends Error {
  constructor(message: string, readonly code: unknown) {
    super(message);
    this.name = 'SqliteThreadError';
  }
}

/** A persisted or transferred store state that cannot be used. */
export class StoreStateError extends Error {
  readonly code: StoreStateErrorCode;

  constructor(code: StoreStateErrorCode, message: string) {
    super(message);
    this.name = 'StoreStateError';
    this.code = code;
  }
}
