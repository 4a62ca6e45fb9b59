/**
 * The narrow view of the keyspace the routes use: its index, watches, its stats, and reads. A member
 * holds its store in-process (`LocalKeys`: the `Store` itself fits); a client worker's store lives in
 * the primary process (`RemoteKeys`: reads are answered over the channel, watches from the worker's
 * window of applied events). See docs/multi-core.md.
 */
import type { GetKeysRequest } from '../http/keys-request.js';
import type { ResponseParts } from '../http/write-response.js';
import type { ReadOptions, RenderStepLimits, StoreRead, StoreStatsJSON, Watcher, WatchOptions } from '../store/index.js';

/** What local and remote keyspaces both offer. */
interface KeysCommon {
  /** The store index this process has seen (the `index` of wire errors answered here). */
  readonly index: number;
}

/** A keyspace in this process: the `Store`. */
export interface LocalKeys extends KeysCommon {
  /** Registers a watch (see `Store.watch`); throws an `EtcdError` to answer the request with. */
  watch(path: string, options: WatchOptions): Watcher;
  /** See `Store.read`. */
  read(path: string, options: ReadOptions, nowMs: number, limits: RenderStepLimits): StoreRead;
  /** The `/v2/stats/store` counters. */
  readonly stats: StoreStatsJSON;
}

/** A keyspace in another process, read over a channel. */
export interface RemoteKeys extends KeysCommon {
  /** Marks the remote kind (a `Store` has no such field). */
  readonly remote: true;
  /**
   * Registers a watch as `Store.watch` does; throws (or rejects with) an `EtcdError` to answer the
   * request with. A watch without `waitIndex` resolves once the primary told where it starts.
   */
  watch(path: string, options: WatchOptions): Watcher | Promise<Watcher>;
  /** Answers a read of `r` (after a ReadIndex round there when `linearizable`) through `reply`. */
  get(r: GetKeysRequest, linearizable: boolean, reply: (parts: ResponseParts) => void): void;
  /** The `/v2/stats/store` counters, with this process's watchers. */
  stats(): Promise<StoreStatsJSON>;
}

/** A member's keyspace as the routes see it. */
export type KeysAccess = LocalKeys | RemoteKeys;

/** Whether the keyspace lives in another process. */
export function isRemoteKeys(keys: KeysAccess): keys is RemoteKeys {
  return (keys as Partial<RemoteKeys>).remote === true;
}
