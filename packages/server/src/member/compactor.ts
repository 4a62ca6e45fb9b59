/**
 * Log compaction: every `snapshotCount` applied entries, make the state database durable
 * (checkpoint), record a snapshot at the applied index in raft storage and the WAL, drop old
 * entries from memory (keeping a tail so slightly lagging followers need no snapshot), and delete
 * WAL segments the snapshot covers. Disk and memory stay bounded under any write load.
 *
 * A snapshot blocks the member for a moment (database checkpoint, fsyncs). Members applying the
 * same log would all reach the threshold together and stall the cluster at once, so each member
 * takes its first snapshot at a different offset (derived from its ID), which keeps them apart
 * from then on: while one follower snapshots, the leader still commits with the others.
 *
 * On a full disk (the database flush or checkpoint, or the WAL marker, found no room) the snapshot
 * is given up before any WAL segment is released, reported, and tried again after the next applied
 * batch once the member's NOSPACE alarm is cleared: the WAL keeps everything the database lacks.
 */
import { EMPTY_BYTES, type ConfState } from '@deimos/protocol';
import type { MemoryStorage } from '@deimos/raft';
import type { Wal } from '../wal/index.js';
import type { SqliteBackend } from '../store/index.js';
import type { Logger } from '../util/logger.js';
import { isNoSpaceError } from '../util/no-space.js';

/**
 * Entries kept in memory behind a snapshot for followers that are only a little behind: 5000, or
 * `DEIMOS_TEST_CATCH_UP_ENTRIES` in tests (a few entries let an e2e test make a new member catch up
 * through a snapshot after a handful of writes instead of thousands).
 */
export const CATCH_UP_ENTRIES = catchUpEntries(process.env.DEIMOS_TEST_CATCH_UP_ENTRIES);

function catchUpEntries(env: string | undefined): number {
  const n = env === undefined ? NaN : Number(env);
  return Number.isInteger(n) && n >= 0 ? n : 5000;
}

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
  /** This member's ID (hex); spreads the members' snapshot points apart. */
  memberId?: string;
  /** A snapshot found the disk full and was given up (nothing was released). */
  onNoSpace?: (err: Error) => void;
  /** True while snapshots wait (the disk is full). */
  paused?: () => boolean;
}

/** Where in [0, snapshotCount / 2) a member's first snapshot is shifted, from its hex ID. */
export function snapshotOffset(memberId: string, snapshotCount: number): number {
  const span = Math.floor(snapshotCount / 2);
  if (span === 0) return 0;
  return parseInt(memberId.slice(-8) || '0', 16) % span;
}

/** Decides when to snapshot and does it; call {@link maybeCompact} after each applied batch. */
export class Compactor {
  /** The applied index at which the next snapshot is due. */
  private dueAt: number;

  constructor(private readonly deps: CompactorDeps) {
    const offset = deps.memberId === undefined ? 0 : snapshotOffset(deps.memberId, deps.snapshotCount);
    this.dueAt = deps.storage.snapshot().metadata.index + deps.snapshotCount + offset;
  }

  /** Takes a snapshot when enough entries were applied since the last one. */
  maybeCompact(appliedIndex: number): void {
    if (appliedIndex < this.dueAt || this.deps.paused?.() === true) return;
    try {
      this.compact(appliedIndex);
    } catch (err) {
      if (!isNoSpaceError(err)) throw err;
      this.deps.logger.warn('snapshot given up: no disk space', { index: appliedIndex, error: (err as Error).message });
      this.deps.onNoSpace?.(err as Error);
    }
  }

  private compact(appliedIndex: number): void {
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
    this.dueAt = appliedIndex + this.deps.snapshotCount;
    this.deps.logger.info('snapshot taken', {
      index: appliedIndex, walSegmentsReleased: released,
      checkpointMs: Math.round(checkpointMs), totalMs: Math.round(performance.now() - started),
    });
  }
}
