/**
 * The start-up check that the raft log (WAL) and the state database describe the same history.
 *
 * A restart replays the log from the WAL's snapshot index and skips entries the database already
 * applied. That only rebuilds the acknowledged state when the two overlap; otherwise the member would
 * serve a truncated keyspace (database older than the snapshot), or skip the new entries it appends
 * at indexes the database already passed (log shorter than the database: every write then times
 * out), or campaign with a forgotten term and vote (no WAL at all). Each of those refuses to start.
 *
 * What is not a disagreement: a database behind the log's commit (it is written behind, up to
 * 50 ms after apply; the replay fills the gap), and a database restored from a leader's snapshot
 * that is ahead of this member's log (the leader's copy includes entries after its snapshot index
 * that this member has not appended yet; those arrive from the leader with the same content), even
 * when a crash came before the WAL recorded that snapshot.
 */
import type { WalSummary } from '../wal/index.js';

/** The log and the state database disagree; the member must not start on them. */
export class DataDirInconsistentError extends Error {
  readonly code = 'ERR_DATA_DIR_INCONSISTENT';
  constructor(message: string) {
    super(`${message}; refusing to start (restore the data directory from a backup, or remove this member and add it back with an empty one)`);
    this.name = 'DataDirInconsistentError';
  }
}

/** What the check needs to know about the state database. */
export interface DatabaseSummary {
  path: string;
  /** The raft index of the last entry the database holds (0: empty or new). */
  appliedIndex: number;
  /** Set when the database was last replaced by a leader's snapshot (see `SqliteBackend.restoredFrom`). */
  restoredFrom?: { snapshotIndex: number; appliedIndex: number } | undefined;
}

/** The database was replaced by a leader's snapshot the WAL records or has not recorded yet, and nothing was applied since. */
function isRestoreOnTop(db: DatabaseSummary, walSnapshotIndex: number): boolean {
  const r = db.restoredFrom;
  return r !== undefined && r.appliedIndex === db.appliedIndex && r.snapshotIndex >= walSnapshotIndex;
}

/**
 * True when the last snapshot install was cut short (a crash after the database was replaced,
 * before the WAL recorded the snapshot): worth a line in the log at start.
 */
export function installCutShort(db: DatabaseSummary, walSnapshotIndex: number): boolean {
  return isRestoreOnTop(db, walSnapshotIndex) && db.restoredFrom!.snapshotIndex > walSnapshotIndex;
}

/**
 * Throws {@link DataDirInconsistentError} (one line naming the files and both indexes) when the WAL
 * (`wal`, undefined when `walDir` holds none) and the database disagree; see the module comment.
 */
export function checkLogAgainstDatabase(db: DatabaseSummary, walDir: string, wal: WalSummary | undefined): void {
  const applied = db.appliedIndex;
  if (wal === undefined) {
    if (applied > 0) {
      throw new DataDirInconsistentError(`state database ${db.path} has applied index ${applied} but ${walDir} holds no WAL (last index 0): the raft log, term and vote are gone`);
    }
    return;
  }
  const snapshotIndex = wal.state.snapshot?.index ?? 0;
  if (applied < snapshotIndex) {
    throw new DataDirInconsistentError(
      `state database ${db.path} applied index ${applied} is below the WAL snapshot index ${snapshotIndex} (${wal.segmentPaths[0]}): `
      + `the entries up to ${snapshotIndex} are in neither (state database missing, or replaced by an older copy)`,
    );
  }
  const { lastIndex } = wal;
  const commit = wal.state.hardState.commit;
  if (lastIndex >= applied && commit >= applied) return;
  // Right after a snapshot from the leader, and before any later entry was applied on top of it:
  // with the WAL's snapshot marker written, or without it (the install was cut short between
  // replacing the database and writing the marker). The log then is the log from before the
  // install, term and vote included (nothing was sent on the install's behalf before the marker),
  // and the leader sends again what this member lacks; see {@link installCutShort}.
  if (isRestoreOnTop(db, snapshotIndex)) return;
  throw new DataDirInconsistentError(
    `WAL ${wal.segmentPaths.at(-1)} ends at index ${lastIndex} (commit ${commit}), below the state database ${db.path} applied index ${applied}: `
    + 'the log lost entries it had made durable (WAL truncated, zeroed, or replaced by an older copy)',
  );
}
