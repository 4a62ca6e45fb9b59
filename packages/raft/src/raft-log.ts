/** The raft log: durable entries in {@link Storage} followed by the {@link Unstable} tail. */
import { EntryType, type Entry, type Snapshot } from '@deimos/protocol';
import { CompactedError, UnavailableError, type Storage } from './api.js';
import { Unstable } from './unstable.js';
import { assert, limitSize, max, min, entrySize } from './util.js';

/** An index and the term of the entry there (0 when unknown). */
export interface IndexTerm {
  index: number;
  term: number;
}

/** The log a node reasons about, with its commit and apply cursors. */
export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be committed by a quorum. */
  committed: number;
  /** Highest index the application has applied (acknowledged through advance()). */
  applied: number;
  /** Highest index handed to the application in a Ready (applied <= applying <= committed). */
  applying: number;

  constructor(readonly storage: Storage, private readonly maxApplyingSizeBytes: number) {
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of entry `i`; throws {@link CompactedError} or {@link UnavailableError} outside the log. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.unstable.maybeTerm(i) ?? this.storage.term(i);
  }

  /** Term of entry `i`, or 0 when it is compacted or not yet there. */
  termOrZero(i: number): number {
    try {
      return this.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return 0;
      throw err;
    }
  }

  matchTerm(i: number, t: number): boolean {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return false;
    return this.termOrZero(i) === t;
  }

  /** Raft's up-to-date check for granting votes (§5.4.1). */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends a leader's entries that follow (`index`, `logTerm`) if our log matches there, and
   * advances the commit index; returns the last index the leader's message vouches for.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries (truncating a conflicting uncommitted tail); returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(after >= this.committed, () => `append after ${after} is below committed ${this.committed}`);
    assert(after <= this.lastIndex(), () => `append after ${after} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Index of the first entry of `ents` that is new or conflicts with ours, 0 when all match. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The last index <= `index` whose term is <= `term`, with that term: where a leader with an
   * entry of `term` at `index` can next probe (etcd's fast log back-off).
   */
  findConflictByTerm(index: number, term: number): IndexTerm {
    for (let i = index; i > 0; i--) {
      let ourTerm: number;
      try {
        ourTerm = this.term(i);
      } catch (err) {
        if (err instanceof CompactedError || err instanceof UnavailableError) return { index: i, term: 0 };
        throw err;
      }
      if (ourTerm <= term) return { index: i, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Entries in [lo, hi) up to `maxSizeBytes` (at least one); throws {@link CompactedError} below the log. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError();
    assert(hi <= this.lastIndex() + 1 && lo <= hi, () => `slice(${lo}, ${hi}) out of bounds (last ${this.lastIndex()})`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < offset) {
      const storedHi = min(hi, offset);
      ents = this.storage.entries(lo, storedHi, maxSizeBytes);
      if (ents.length < storedHi - lo) return ents;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxSizeBytes);
  }

  /** Entries from `i` to the end, up to `maxSizeBytes`. */
  entries(i: number, maxSizeBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSizeBytes);
  }

  /** The whole available log (tests and debugging). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), Number.POSITIVE_INFINITY);
  }

  commitTo(toCommit: number): void {
    if (toCommit <= this.committed) return;
    assert(toCommit <= this.lastIndex(), () => `commit ${toCommit} is out of range (last ${this.lastIndex()})`);
    this.committed = toCommit;
  }

  /** Commits up to `maxIndex` if that entry is from `term` (only current-term entries commit by counting). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(i <= this.committed && i >= this.applied, () => `applied ${i} out of range [${this.applied}, ${this.committed}]`);
    this.applied = i;
    this.applying = max(this.applying, i);
  }

  /** True when a snapshot waits to be persisted/installed. */
  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet handed to the application (none while a snapshot is pending). */
  nextCommittedEntries(maxSizeBytes = this.maxApplyingSizeBytes): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const lo = max(this.applying + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, maxSizeBytes);
  }

  hasNextCommittedEntries(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed > max(this.applying, this.firstIndex() - 1);
  }

  /** Marks committed entries up to `i` as handed to the application. */
  acceptApplying(i: number): void {
    assert(i <= this.committed, () => `applying ${i} beyond committed ${this.committed}`);
    this.applying = max(this.applying, i);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Replaces the log with a snapshot; it becomes committed. */
  restore(s: Snapshot): void {
    assert(s.metadata.index > this.committed, 'restore of a snapshot at or below commit');
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Number of ConfChange entries in [lo, hi). */
  countConfChanges(lo: number, hi: number): number {
    if (lo >= hi) return 0;
    return this.slice(lo, hi, Number.POSITIVE_INFINITY).filter((e) => e.type === EntryType.ConfChange).length;
  }

  /** Index up to which our own log is known durable (conservative). */
  stableLastIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return this.unstable.offset - 1;
  }

  /** Size of a batch of entries for message limits. */
  static sizeOf(ents: readonly Entry[]): number {
    let n = 0;
    for (const e of ents) n += entrySize(e);
    return n;
  }
}
