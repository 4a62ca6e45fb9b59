/**
 * Feeds the state recovered from the WAL into the in-memory log the consensus core reads
 * (raft's `MemoryStorage`), the way etcd restarts a node: snapshot, then hard state, then entries.
 */
import { EMPTY_BYTES, type Entry, type HardState, type Snapshot } from '@deimos/protocol';
import type { WalState } from './wal-reader.js';

/** The mutators of raft's `MemoryStorage` that a restart needs (structural, so any mirror fits). */
export interface RaftStorageSink {
  applySnapshot(snapshot: Snapshot): void;
  setHardState(hs: HardState): void;
  append(entries: Entry[]): void;
}

/**
 * Loads `state` into `storage` (normally a fresh `new MemoryStorage()`) and returns it.
 *
 * The WAL stores only the snapshot's metadata; pass the state machine snapshot's bytes as
 * `snapshotData` (from the snapshot store) so that followers that need it can be sent it.
 */
export function loadRaftStorage<S extends RaftStorageSink>(state: WalState, storage: S, snapshotData: Uint8Array = EMPTY_BYTES): S {
  if (state.snapshot && state.snapshot.index > 0) {
    storage.applySnapshot({ metadata: state.snapshot, data: snapshotData });
  }
  storage.setHardState(state.hardState);
  storage.append(state.entries);
  return storage;
}
