/**
 * The persistence boundary of the store. The store records what each applied batch changed;
 * the backend makes a whole batch durable atomically (one SQLite transaction).
 */
import type { StoreEvent } from './event.js';

/** One persisted node (the root is implicit and never stored). */
export interface NodeRow {
  readonly path: string;
  readonly dir: boolean;
  /** The file value; `undefined` for directories. */
  readonly value: string | undefined;
  readonly createdIndex: number;
  readonly modifiedIndex: number;
  /** Absolute expiration (ms since the epoch); `undefined` when permanent. */
  readonly expireAtMs: number | undefined;
}

/** A change to the persisted tree, applied in order within a batch. */
export type NodeChange =
  | { readonly kind: 'put'; readonly row: NodeRow }
  /** Removes the node at `path` and everything below it. */
  | { readonly kind: 'deleteTree'; readonly path: string };

/** The raft position of the last entry applied to the store. */
export interface AppliedPosition {
  readonly index: number;
  readonly term: number;
}

/** The scalar state persisted with every batch. */
export interface StoreMeta {
  /** The store index (v2 `X-Etcd-Index`) after the batch. */
  readonly storeIndex: number;
  /** The oldest event index still kept; events below it are pruned. */
  readonly historyStartIndex: number;
  readonly applied: AppliedPosition;
}

/** Everything one applied batch changed. */
export interface BackendBatch extends StoreMeta {
  readonly changes: readonly NodeChange[];
  /** New events, ascending by index, contiguous with what is already stored. */
  readonly events: readonly StoreEvent[];
}

/** A full state, as loaded on open or installed from a snapshot. */
export interface BackendState extends StoreMeta {
  /** All nodes, once each, in any order (a loaded state's may be read lazily, once). */
  readonly nodes: Iterable<NodeRow>;
}

/** A full state with its kept event history, for replacing everything at once. */
export interface BackendReplacement extends BackendState {
  readonly events: readonly StoreEvent[];
}

/**
 * Durable storage for the store: the tree, the store index, the applied raft position and the
 * event history window. Every method is synchronous: the store is a synchronous state machine.
 */
export interface StoreBackend {
  /** Reads the whole persisted state (an empty store: index 0, applied 0/0, history start 1). */
  load(): BackendState;
  /** Reads up to `limit` stored events with index >= `fromIndex`, ascending. */
  readEvents(fromIndex: number, limit: number): StoreEvent[];
  /**
   * Makes one batch durable atomically, pruning events below `historyStartIndex`. A backend with a
   * writer thread may return before the batch is written: {@link drain} waits for it.
   */
  commit(batch: BackendBatch): void;
  /** Returns once every batch given to `commit` is written; throws what stops one (a full disk). */
  drain?(): void;
  /** Atomically replaces the whole state (raft snapshot install). */
  replaceAll(state: BackendReplacement): void;
  /** Releases resources; the backend is unusable afterwards. */
  close(): void;
}

/** The state of a backend that has never been written. */
export const EMPTY_META: StoreMeta = { storeIndex: 0, historyStartIndex: 1, applied: { index: 0, term: 0 } };
