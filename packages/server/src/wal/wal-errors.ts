/**
 * Operational errors of the write-ahead log, with stable `code`s (check `code` or `instanceof`,
 * never the message text).
 */

/** Base class of every WAL error. */
export class WalError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'WalError';
  }
}

/**
 * A record that cannot be a torn tail is damaged, or the segment chain is broken (missing,
 * misplaced or foreign segment). The log is never silently skipped past: an operator must act.
 */
export class WalCorruptionError extends WalError {
  constructor(readonly file: string, readonly offset: number, reason: string) {
    super('ERR_WAL_CORRUPT', `wal corrupt: ${file} at offset ${offset}: ${reason}`);
    this.name = 'WalCorruptionError';
  }
}

/** `Wal.create` was called on a directory that already holds a log. */
export class WalExistsError extends WalError {
  constructor(readonly dir: string) {
    super('ERR_WAL_EXISTS', `wal already exists in ${dir}`);
    this.name = 'WalExistsError';
  }
}

/** `Wal.open` found no log in the directory. */
export class WalNotFoundError extends WalError {
  constructor(readonly dir: string) {
    super('ERR_WAL_NOT_FOUND', `no wal segments in ${dir}`);
    this.name = 'WalNotFoundError';
  }
}

/** The WAL was used after `close()`. */
export class WalClosedError extends WalError {
  constructor() {
    super('ERR_WAL_CLOSED', 'wal is closed');
    this.name = 'WalClosedError';
  }
}

/**
 * The filesystem had no room for a write (ENOSPC, or EDQUOT over a quota). Nothing of the failed
 * write counts: the log is as it was before the call and stays usable, so the same save may be
 * retried once space returns. Unlike an fsync failure, this does not poison the log.
 */
export class WalNoSpaceError extends WalError {
  constructor(readonly dir: string, readonly error: unknown) {
    super('ERR_WAL_NO_SPACE', `no space left for the wal in ${dir}: ${(error as Error)?.message ?? String(error)}`);
    this.name = 'WalNoSpaceError';
  }
}

/** True for the errno codes of a full filesystem (ENOSPC) or an exhausted quota (EDQUOT). */
export function isNoSpaceErrno(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
