/**
 * The not-yet-persisted tail of the raft log: entries (and possibly a snapshot) that the
 * application has been or will be asked to write. `offsetInProgress` marks what was already
 * handed out in a Ready, so a second Ready before advance() does not repeat it.
 */
import type { Entry, Snapshot } from '@deimos/protocol';
import { assert, max, min } from './util.js';

/** Unstable entries start at `offset`; a pending snapshot precedes them. */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;
  offsetInProgress: number;
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** Index after the pending snapshot, if any. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** Last index held here (entries, else the snapshot), if any. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** Term of entry `i` if this part of the log knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      const s = this.snapshot;
      return s !== undefined && s.metadata.index === i ? s.metadata.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** True when some entries were not yet handed to the application. */
  hasEntriesToPersist(): boolean {
    return this.offset + this.entries.length > this.offsetInProgress;
  }

  /** Entries not yet handed to the application. */
  entriesToPersist(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  /** The snapshot if not yet handed to the application. */
  snapshotToPersist(): Snapshot | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Marks everything currently here as handed out in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /** Entries up to `i` (with term `t`) are durable; drops them unless they were since replaced. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
    this.offsetInProgress = max(this.offsetInProgress, this.offset);
  }

  /** The snapshot at `i` is durable. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Appends `ents`, replacing any existing entries at or after the first of them. */
  truncateAndAppend(ents: readonly Entry[]): void {
    assert(ents.length > 0, 'truncateAndAppend of nothing');
    const from = ents[0]!.index;
    if (from === this.offset + this.entries.length) {
      // The common case (a leader's proposals, a follower's next batch): no copy of what is here.
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      this.offset = from;
      this.entries = [...ents];
      this.offsetInProgress = this.offset;
    } else {
      this.entries = this.slice(this.offset, from).concat(ents);
      this.offsetInProgress = min(this.offsetInProgress, from);
    }
  }

  /** Entries in [lo, hi), which must lie within this part of the log. */
  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    assert(lo >= this.offset && hi <= upper && lo <= hi, () => `unstable.slice(${lo}, ${hi}) out of [${this.offset}, ${upper}]`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
