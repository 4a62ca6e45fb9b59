/**
 * The v2 keyspace store: tree, TTLs, watches, history and persistence.
 *
 * Batching: apply each committed entry with a mutation method (`set`, `create`, ...,
 * `deleteExpiredKeys` for SYNC), catching `EtcdError` as that entry's answer, then call
 * `store.commit({ index, term })` once per applied batch: one backend transaction; or
 * `store.markApplied(...)` per batch and `store.flush()` every so often, when a raft log replays
 * whatever was applied but not yet flushed.
 * Snapshots: `toSnapshot()`/`fromSnapshot()` move a JSON-able state; with SQLite,
 * `SqliteBackend.checkpointTo(file)` writes the snapshot file and `restoreFrom(file)` + `store.reload()`
 * install one.
 */
export { Store } from './store.js';
export type { StoreEventSink } from './store.js';
export type {
  CompareAndDeleteOptions, CompareAndSwapOptions, CompareOptions, CreateOptions, DeleteOptions, GetOptions,
  GetResult, ReadOptions, SetOptions, StoreRead, StoreOptions, UpdateOptions, WatchOptions,
} from './store-options.js';
export type { StoreSnapshot } from './store-snapshotter.js';
export type { MutationAction, NodeRecord, StoreEvent } from './event.js';
export { makeEvent } from './event.js';
export { Watcher } from './watcher.js';
export type { WatcherCloseReason } from './watcher.js';
export { formatRfc3339Nano, remainingTtlSeconds, renderEvent, renderNode } from './render.js';
export type { StoreStatsJSON } from './stats.js';
export type {
  AppliedPosition, BackendBatch, BackendReplacement, BackendState, NodeChange, NodeRow, StoreBackend, StoreMeta,
} from './store-backend.js';
export { MemoryBackend } from './memory-backend.js';
export { SqliteBackend, SCHEMA_VERSION } from './sqlite-backend.js';
export { StoreStateError } from './store-errors.js';
export type { StoreStateErrorCode } from './store-errors.js';
export { isCleanPath, isReservedPath, RESERVED_PREFIX } from './store-path.js';
export { BigListing } from './listing-renderer.js';
export { preloadTree, PRELOAD_ROWS_PER_STEP } from './tree-preload.js';
export type { Tree } from './tree.js';
export type { RenderStepLimits } from './listing-renderer.js';
