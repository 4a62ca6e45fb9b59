/**
 * Option and result types of the store's operations (options objects, no positional booleans).
 */
import type { BigListing } from './listing-renderer.js';
import type { EventJSON } from '@deimos/protocol';
import type { StoreBackend } from './store-backend.js';

/** How a `Store` is opened. */
export interface StoreOptions {
  /** Where the state is persisted (`SqliteBackend` in the server, `MemoryBackend` in tests). */
  readonly backend: StoreBackend;
  /** Events kept for `waitIndex` (default 100,000). */
  readonly historyLimit?: number;
  /** Recent events kept in memory (default 1,000). */
  readonly historyMemorySize?: number;
  /** Default buffer of a stream watcher, in events (default 1,000). */
  readonly streamBufferSize?: number;
}

/** Options of `get`. */
export interface GetOptions {
  /** Expand every directory level. */
  readonly recursive?: boolean;
  /** Order children by key. */
  readonly sorted?: boolean;
}

/** The answer of `get`: the rendered `get` event and the store index it was read at. */
export interface GetResult {
  readonly event: EventJSON;
  readonly index: number;
}

/** Options of `read`: those of `get`, and whether to leave it out of the stats. */
export interface ReadOptions extends GetOptions {
  /** Not counted in the stats (the same read tried again). */
  readonly quiet?: boolean;
}

/**
 * The answer of `read`, at store index `index`: the whole body text, or a big answer to render
 * in steps (see `Store.read`).
 */
export type StoreRead =
  | { readonly index: number; readonly body: string; readonly listing?: undefined }
  | { readonly index: number; readonly body?: undefined; readonly listing: BigListing };

/** Options of `set` (plain PUT). */
export interface SetOptions {
  /** The value of a file (default `''`); ignored for a dir. */
  readonly value?: string;
  /** Make an empty directory (replacing a file; a dir is 102). */
  readonly dir?: boolean;
  /** Seconds to live from the entry's time; absent = permanent. */
  readonly ttlSeconds?: number;
  /** Keep the current value (the key must exist) and do not wake live watchers. */
  readonly refresh?: boolean;
}

/** Options of `create` (PUT prevExist=false, or POST with `unique`). */
export interface CreateOptions {
  readonly value?: string;
  readonly dir?: boolean;
  readonly ttlSeconds?: number;
  /** In-order POST: create `path/<next index, 20 digits>`. */
  readonly unique?: boolean;
}

/** Options of `update` (PUT prevExist=true). */
export interface UpdateOptions {
  readonly value?: string;
  readonly ttlSeconds?: number;
  readonly refresh?: boolean;
}

/** The conditions of `compareAndSwap` / `compareAndDelete`; `''` and `0` mean "no condition". */
export interface CompareOptions {
  readonly prevValue?: string;
  readonly prevIndex?: number;
  /** The exact digits of a `prevIndex` past 2^53, shown in a failure's cause instead of the number. */
  readonly prevIndexText?: string;
}

/** Options of `compareAndSwap`. */
export interface CompareAndSwapOptions extends CompareOptions {
  readonly value?: string;
  readonly ttlSeconds?: number;
  readonly refresh?: boolean;
}

/** Options of `compareAndDelete`. */
export type CompareAndDeleteOptions = CompareOptions;

/** Options of `delete`. */
export interface DeleteOptions {
  /** Allow deleting an empty directory. */
  readonly dir?: boolean;
  /** Delete a directory with everything below it (implies `dir`). */
  readonly recursive?: boolean;
}

/** Options of `watch`. */
export interface WatchOptions {
  /** Also events below the path (except under hidden segments). */
  readonly recursive?: boolean;
  /** Keep delivering events instead of closing after the first. */
  readonly stream?: boolean;
  /** Start from this index (scanning history); 0/absent = the next index. */
  readonly sinceIndex?: number;
  /** Buffer of a stream watcher in events (default: the store's `streamBufferSize`). */
  readonly bufferSize?: number;
}
