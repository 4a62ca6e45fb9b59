/**
 * Log compaction: every `snapshotCount` applied entries, make the state database durable
 * (checkpoint), record a snapshot at the applied index in raft storage and the WAL, drop old
 * entries from memory (keeping a tail so slightly lagging followers need no snapshot), and delete
 * WAL segments the snapshot covers. Disk and memory stay bounded under any write load.
 */
import { EMPTY_BYTES, type ConfState } from '@deimos/protocol';
import type { MemoryStorage } from '@deimos/raft';
import type { Wal } from '../wal/index.js';
import type { SqliteBackend } from '../store/index.js';
import type { Logger } from '../util/logger.js';

/** Entries kept in memory behind a snapshot for followers that are only a little behind. */
export const CATCH_UP_ENTRIES = 5000;

/** Dependencies of the compactor. */
export interface CompactorDeps {
  storage: MemoryStorage;
  wal: Wal;
  backend: SqliteBackend;
  snapshotCount: number;
  confState: () => ConfState;
  logger: Logger;
  /** Writes every applied change to the state database (the applier writes behind). */
  flushState?: () => void;
}

/** Decides when to snapshot and does it; call {@link maybeCompact} after each applied batch. */
export class Compactor {
  private lastSnapshotIndex: number;

  constructor(private readonly deps: CompactorDeps) {
    this.lastSnapshotIndex = deps.storage.snapshot().metadata.index;
  }

  /** Takes a snapshot when enough entries were applied since the last one. */
  maybeCompact(appliedIndex: number): void {
    if (appliedIndex - this.lastSnapshotIndex < this.deps.snapshotCount) return;
    const { storage, wal, backend } = this.deps;
    const started = performance.now();
    // The database must hold everything up to appliedIndex durably before the WAL forgets it.
    this.deps.flushState?.();
    backend.checkpoint();
    const checkpointMs = performance.now() - started;
    const snap = storage.createSnapshot(appliedIndex, this.deps.confState(), EMPTY_BYTES);
    wal.saveSnapshotMarker(snap.metadata);
    const keepFrom = appliedIndex - CATCH_UP_ENTRIES;
    if (keepFrom > storage.firstIndex()) storage.compact(keepFrom);
    const released = wal.releaseBefore(appliedIndex);
    this.lastSnapshotIndex = appliedIndex;
    this.deps.logger.info('snapshot taken', {
      index: appliedIndex, walSegmentsReleased: released,
      checkpointMs: Math.round(checkpointMs), totalMs: Math.round(performance.now() - started),
    });
  }
}
