/** An in-memory {@link Storage}: the durable log image the core reads; servers wrap it with a WAL. */
import {
  EMPTY_BYTES, EMPTY_HARD_STATE, EntryType,
  type ConfState, type Entry, type HardState, type Snapshot,
} from '@deimos/protocol';
import { CompactedError, SnapOutOfDateError, UnavailableError, type Storage } from './api.js';
import { assert, limitSize } from './util.js';

function placeholder(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_BYTES };
}

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}

/**
 * The log as an array whose first element is a placeholder carrying the snapshot's index and term,
 * followed by the entries after the snapshot. Indexes are contiguous.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { ...EMPTY_HARD_STATE };
  private snap: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY_BYTES,
  };
  private ents: Entry[] = [placeholder(0, 0)];
  /** The configuration to restart with: the snapshot's, or the latest one the application applied. */
  private confState: ConfState = { voters: [], learners: [] };

  /** Sets the configuration of a brand-new cluster at index 0 / term 0 (no conf-change entries needed). */
  bootstrap(confState: ConfState): void {
    assert(this.lastIndex() === 0 && this.snap.metadata.index === 0, 'bootstrap of a non-empty storage');
    this.snap = { ...this.snap, metadata: { index: 0, term: 0, confState: copyConfState(confState) } };
    this.confState = copyConfState(confState);
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: copyConfState(this.confState) };
  }

  /**
   * Records the configuration returned by `applyConfChange`, so a restart (with `applied` at or
   * after that entry) starts from it; entries up to `applied` are not replayed.
   */
  setConfState(cs: ConfState): void {
    this.confState = copyConfState(cs);
  }

  /** Records the hard state (the caller persists it with the entries of the same Ready). */
  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    assert(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) past last index ${this.lastIndex()}`);
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot received from the leader; throws {@link SnapOutOfDateError}. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = snap;
    this.ents = [placeholder(snap.metadata.index, snap.metadata.term)];
    this.confState = copyConfState(snap.metadata.confState);
  }

  /** Records a snapshot of the state machine at `index` (which must be applied and in the log). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapOutOfDateError();
    assert(index <= this.lastIndex(), `snapshot index ${index} is past last index ${this.lastIndex()}`);
    const term = this.term(index);
    this.snap = { metadata: { index, term, confState: copyConfState(confState) }, data };
    return this.snap;
  }

  /** Discards entries up to and including `index`; throws {@link CompactedError} if already gone. */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) throw new CompactedError();
    assert(index <= this.lastIndex(), `compact ${index} is past last index ${this.lastIndex()}`);
    const rest = this.ents.slice(index - offset + 1);
    this.ents = [placeholder(index, this.ents[index - offset]!.term), ...rest];
  }

  /** Appends entries, replacing any conflicting tail; entries below the first index are ignored. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    const fresh = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const at = fresh[0]!.index - this.ents[0]!.index;
    assert(at <= this.ents.length, () => `missing log entries: last ${this.lastIndex()}, appending at ${fresh[0]!.index}`);
    // Appending at the end (the common case) must not copy the whole log.
    if (at < this.ents.length) this.ents.length = at;
    for (const e of fresh) this.ents.push(e);
  }
}
