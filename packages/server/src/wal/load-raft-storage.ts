/**
 * Feeds the state recovered from the WAL into the in-memory log the consensus core reads
 * (raft's `MemoryStorage`), the way etcd restarts a node: snapshot, then hard state, then entries.
 */
import { EMPTY_BYTES, type ConfState, type Entry, type HardState, type Snapshot } from '@deimos/protocol';
import { MemoryStorage } from '@deimos/raft';
import type { WalState } from './wal-reader.js';

/** The mutators of raft's `MemoryStorage` that a restart needs (structural, so any mirror fits). */
export interface RaftStorageSink {
  /** Sets the configuration of a log that has no snapshot yet (a marker at index 0). */
  bootstrap?(confState: ConfState): void;
  applySnapshot(snapshot: Snapshot): void;
  setHardState(hs: HardState): void;
  append(entries: Entry[]): void;
}

/** Options of {@link loadRaftStorage}. */
export interface LoadRaftStorageOptions<S extends RaftStorageSink> {
  /** The state machine snapshot's bytes (from the snapshot store), served to followers that need it. */
  snapshotData?: Uint8Array;
  /** Where to load into; a fresh `MemoryStorage` by default. */
  storage?: S;
}

/**
 * Loads a recovered {@link WalState} into raft storage (a fresh `MemoryStorage` unless one is given)
 * and returns it.
 *
 * The WAL stores only snapshot metadata. A marker at index 0 records the bootstrap configuration of
 * a new cluster (`wal.saveSnapshotMarker({ index: 0, term: 0, confState })`) and is restored with
 * `bootstrap`; a marker above 0 is restored with `applySnapshot` and `snapshotData`.
 */
export function loadRaftStorage(state: WalState, options?: LoadRaftStorageOptions<MemoryStorage>): MemoryStorage;
export function loadRaftStorage<S extends RaftStorageSink>(state: WalState, options: LoadRaftStorageOptions<S> & { storage: S }): S;
export function loadRaftStorage(state: WalState, options: LoadRaftStorageOptions<RaftStorageSink> = {}): RaftStorageSink {
  const storage = options.storage ?? new MemoryStorage();
  const snap = state.snapshot;
  if (snap && snap.index > 0) {
    storage.applySnapshot({ metadata: snap, data: options.snapshotData ?? EMPTY_BYTES });
  } else if (snap && storage.bootstrap) {
    storage.bootstrap(snap.confState);
  }
  storage.setHardState(state.hardState);
  storage.append(state.entries);
  return storage;
}
