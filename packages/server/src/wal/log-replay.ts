/**
 * Rebuilds the raft log from WAL records in write order, with raft's append semantics: an entry
 * at an index already present truncates the tail from there, and a snapshot marker drops what it
 * covers.
 */
import { EMPTY_HARD_STATE, type Entry, type HardState, type SnapshotMetadata } from '@deimos/protocol';

/** A replay invariant broke (a gap in the log, a snapshot going backwards); the reader adds file and offset. */
export class ReplayError extends Error {}

/** Accumulates hard state, latest snapshot marker and the live entries while records are replayed. */
export class LogReplay {
  hardState: HardState = { ...EMPTY_HARD_STATE };
  snapshot: SnapshotMetadata | undefined;
  private log: Entry[] = [];

  /** Appends an entry, overwriting a conflicting tail; entries the snapshot covers are ignored. */
  append(e: Entry): void {
    if (e.index <= (this.snapshot?.index ?? 0)) return;
    const log = this.log;
    if (log.length === 0) {
      log.push(e);
      return;
    }
    const first = log[0]!.index;
    const last = first + log.length - 1;
    if (e.index > last + 1) throw new ReplayError(`entry ${e.index} leaves a gap after ${last}`);
    if (e.index < first) this.log = [e];
    else {
      log.length = e.index - first;
      log.push(e);
    }
  }

  /** Applies a snapshot marker: keeps only entries after it, and only if the log agrees with its term. */
  applySnapshot(meta: SnapshotMetadata): void {
    const prev = this.snapshot?.index ?? 0;
    if (meta.index < prev) throw new ReplayError(`snapshot marker ${meta.index} is older than ${prev}`);
    this.snapshot = meta;
    const log = this.log;
    if (log.length === 0) return;
    const first = log[0]!.index;
    if (meta.index < first) return;
    const at = meta.index - first;
    // A marker inside the log with a matching term keeps the tail (local compaction); anything
    // else means the snapshot replaced the log (installed from the leader).
    this.log = at < log.length && log[at]!.term === meta.term ? log.slice(at + 1) : [];
  }

  /** The live entries; throws if they do not start right after the snapshot. */
  finish(): Entry[] {
    const want = (this.snapshot?.index ?? 0) + 1;
    const first = this.log[0]?.index;
    if (first !== undefined && first !== want) {
      throw new ReplayError(`entries start at ${first}, expected ${want} (a segment is missing)`);
    }
    return this.log;
  }
}
