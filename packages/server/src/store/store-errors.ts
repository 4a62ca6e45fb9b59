/**
 * Operational errors of store persistence (tier 2: stable string codes, never matched by text).
 */

/** Stable codes of `StoreStateError`. */
export type StoreStateErrorCode =
  /** The database was written by an incompatible schema version. */
  | 'SCHEMA_VERSION_MISMATCH'
  /** A snapshot (object or file) is not a Deimos store snapshot or has an unknown version. */
  | 'INVALID_SNAPSHOT'
  /** The state database cannot be opened or fails SQLite's quick check. */
  | 'DATABASE_DAMAGED';

/** A persisted or transferred store state that cannot be used. */
export class StoreStateError extends Error {
  readonly code: StoreStateErrorCode;

  constructor(code: StoreStateErrorCode, message: string) {
    super(message);
    this.name = 'StoreStateError';
    this.code = code;
  }
}
