/**
 * Recognising a full disk, wherever it shows up: the WAL's {@link WalNoSpaceError}, a raw ENOSPC
 * (or EDQUOT) from node:fs, and SQLite's SQLITE_FULL from the state database. A member answers all
 * of them with its NOSPACE alarm instead of exiting (see member/disk-space-alarm.ts).
 */
import { isNoSpaceErrno, WalNoSpaceError } from '../wal/index.js';

/**
 * The cause a write gets while the NOSPACE alarm is raised: etcd's text for its own NOSPACE alarm
 * (v3's `ErrGRPCNoSpace`), which operators and tools already recognise.
 */
export const NO_SPACE_CAUSE = 'etcdserver: mvcc: database space exceeded';

/** Raised to a proposal refused because this member's disk is full (the NOSPACE alarm is raised). */
export class NoSpaceError extends Error {
  readonly code = 'ERR_NO_SPACE';
  constructor(reason = NO_SPACE_CAUSE) {
    super(reason);
    this.name = 'NoSpaceError';
  }
}

/** True when `err` says the disk (or quota) had no room for a write. */
export function isNoSpaceError(err: unknown): boolean {
  if (err instanceof WalNoSpaceError || err instanceof NoSpaceError) return true;
  if (isNoSpaceErrno(err)) return true;
  // better-sqlite3's SqliteError carries SQLite's extended result code name.
  return (err as { code?: unknown } | undefined)?.code === 'SQLITE_FULL';
}
