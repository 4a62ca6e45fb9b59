/**
 * The store's internal event representation. Events are immutable once made; they keep
 * absolute expiration times (ms) so that `ttl` can be rendered relative to any clock.
 */
import type { Action } from '@deimos/protocol';

/** A frozen picture of one node as an event carries it (never with children). */
export interface NodeRecord {
  readonly key: string;
  /** Present for files (possibly `''`); absent for dirs and for the `node` of deletions. */
  readonly value?: string;
  readonly dir: boolean;
  /** Absolute expiration in ms since the epoch; absent for permanent nodes. */
  readonly expireAtMs?: number;
  readonly modifiedIndex: number;
  readonly createdIndex: number;
}

/** The actions a mutation can produce (everything but `get`). */
export type MutationAction = Exclude<Action, 'get'>;

/** One store event: the result of exactly one successful mutation, with its own store index. */
export interface StoreEvent {
  readonly action: MutationAction;
  /** The store index the mutation produced (= `node.modifiedIndex`). */
  readonly index: number;
  readonly node: NodeRecord;
  readonly prevNode?: NodeRecord;
  /** A TTL refresh: kept in history, skipped by history scans, never sent to live watchers. */
  readonly refresh: boolean;
  /**
   * When the mutation happened (its request's time, ms since the epoch): the `ttl`s an event shows
   * are counted from it, as etcd computes them once, when the event is made, so a watch answered
   * from history shows the ttl the key had then, not at the read. Absent in events of entries
   * proposed without a time (deletes by an older build) and in history rows written before it was kept.
   */
  readonly timeMs?: number;
}

/** Whether the event removed a node (and, for a dir, its whole subtree). */
export function isRemoval(event: StoreEvent): boolean {
  return event.action === 'delete' || event.action === 'compareAndDelete' || event.action === 'expire';
}

/**
 * Builds an event; `prevNode` and `timeMs` are left out when absent so the object stays small. Its
 * index is the node's modifiedIndex unless given (a decoder keeps the one it read).
 */
export function makeEvent(
  action: MutationAction,
  node: NodeRecord,
  prevNode: NodeRecord | undefined,
  refresh = false,
  timeMs?: number,
  index = node.modifiedIndex,
): StoreEvent {
  const event: { -readonly [K in keyof StoreEvent]: StoreEvent[K] } = prevNode === undefined
    ? { action, index, node, refresh }
    : { action, index, node, prevNode, refresh };
  if (timeMs !== undefined) event.timeMs = timeMs;
  return event;
}
