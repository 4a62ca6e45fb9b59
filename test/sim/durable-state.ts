/**
 * What a simulated node has fsynced: hard state, the latest snapshot and the log entries after it.
 *
 * It is kept apart from the core's MemoryStorage on purpose: a crash throws the MemoryStorage away
 * and a restart rebuilds it from this record only, so anything not persisted here is lost.
 */
import {
  EMPTY_HARD_STATE, isEmptySnapshot,
  type ConfState, type Entry, type HardState, type Snapshot,
} from '@deimos/protocol';
import { MemoryStorage } from '@deimos/raft';

/** The durable image of one node. */
export class DurableState {
  hardState: HardState = { ...EMPTY_HARD_STATE };
  snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous. */
  entries: Entry[] = [];

  /** @param bootstrapConf the configuration at index 0 (the initial cluster), or undefined for none. */
  constructor(readonly bootstrapConf: ConfState | undefined) {}

  /** Index of the snapshot (0 when there is none). */
  snapshotIndex(): number {
    return this.snapshot?.metadata.index ?? 0;
  }

  /** Index of the last durable entry (the snapshot index when there are none). */
  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  /** Term of the entry at `i`, the snapshot's term at its index, or undefined when not held. */
  term(i: number): number | undefined {
    const snapIndex = this.snapshotIndex();
    if (i === snapIndex) return this.snapshot?.metadata.term ?? 0;
    if (i < snapIndex || i > this.lastIndex()) return undefined;
    return this.entries[i - snapIndex - 1]!.term;
  }

  /** The entry at `i`, when held. */
  entry(i: number): Entry | undefined {
    const snapIndex = this.snapshotIndex();
    if (i <= snapIndex || i > this.lastIndex()) return undefined;
    return this.entries[i - snapIndex - 1];
  }

  /**
   * Appends entries, replacing a conflicting tail as raft asks; returns the entries that were
   * removed (so the invariant checker can make sure none of them was committed).
   */
  append(ents: readonly Entry[]): Entry[] {
    if (ents.length === 0) return [];
    const snapIndex = this.snapshotIndex();
    const fresh = ents.filter((e) => e.index > snapIndex);
    if (fresh.length === 0) return [];
    const first = fresh[0]!.index;
    if (first > this.lastIndex() + 1) {
      throw new Error(`durable log gap: last index ${this.lastIndex()}, appending at ${first}`);
    }
    const keep = first - snapIndex - 1;
    const removed = this.entries.slice(keep);
    this.entries = this.entries.slice(0, keep).concat(fresh);
    return removed;
  }

  /** Installs a snapshot received from the leader: the whole log is replaced by it. */
  applySnapshot(snap: Snapshot): Entry[] {
    const removed = this.entries;
    this.snapshot = snap;
    this.entries = [];
    return removed;
  }

  /** Records a locally made snapshot and drops the entries it covers. */
  compact(snap: Snapshot): void {
    const drop = snap.metadata.index - this.snapshotIndex();
    if (drop <= 0) throw new Error(`compact to ${snap.metadata.index} behind snapshot ${this.snapshotIndex()}`);
    this.entries = this.entries.slice(drop);
    this.snapshot = snap;
  }

  /** A fresh MemoryStorage holding exactly the durable state (what a restart sees). */
  buildStorage(): MemoryStorage {
    const storage = new MemoryStorage();
    if (this.snapshot !== undefined && !isEmptySnapshot(this.snapshot)) storage.applySnapshot(this.snapshot);
    else if (this.bootstrapConf !== undefined) storage.bootstrap(this.bootstrapConf);
    storage.setHardState(this.hardState);
    storage.append(this.entries);
    return storage;
  }
}
