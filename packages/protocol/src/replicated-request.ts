/**
 * The replicated request: what a member puts in a normal raft entry. Every member applies the same
 * sequence of these to its store, so each carries everything the store needs (including the time
 * it was proposed, used for TTLs and expiry) and nothing that depends on the applying member.
 */
/** A keys-API write, a TTL sweep, or a membership record update. */
export type ReplicatedRequest =
  | SetRequest
  | CreateRequest
  | UpdateRequest
  | CompareAndSwapRequest
  | DeleteRequest
  | CompareAndDeleteRequest
  | SyncRequest
  | PublishRequest;

interface Base {
  /** Unique request ID; the proposing member wakes its waiting handler with it. */
  id: string;
}

/** PUT without conditions (also `dir=true`, and `refresh=true` with a TTL). */
export interface SetRequest extends Base {
  op: 'set';
  path: string;
  value: string;
  dir: boolean;
  ttlSeconds?: number;
  refresh: boolean;
  timeMs: number;
}

/** PUT `prevExist=false`, or POST (unique: the child is named after the new index). */
export interface CreateRequest extends Base {
  op: 'create';
  path: string;
  value: string;
  dir: boolean;
  ttlSeconds?: number;
  unique: boolean;
  refresh: boolean;
  timeMs: number;
}

/** PUT `prevExist=true` without value/index conditions. */
export interface UpdateRequest extends Base {
  op: 'update';
  path: string;
  value: string;
  ttlSeconds?: number;
  refresh: boolean;
  timeMs: number;
}

/** PUT with `prevValue` and/or `prevIndex`. */
export interface CompareAndSwapRequest extends Base {
  op: 'compareAndSwap';
  path: string;
  value: string;
  prevValue?: string;
  prevIndex?: number;
  ttlSeconds?: number;
  refresh: boolean;
  timeMs: number;
}

/** DELETE without conditions. */
export interface DeleteRequest extends Base {
  op: 'delete';
  path: string;
  dir: boolean;
  recursive: boolean;
}

/** DELETE with `prevValue` and/or `prevIndex`. */
export interface CompareAndDeleteRequest extends Base {
  op: 'compareAndDelete';
  path: string;
  prevValue?: string;
  prevIndex?: number;
}

/** The leader's clock, proposed periodically: keys whose expiration is ≤ timeMs expire. */
export interface SyncRequest extends Base {
  op: 'sync';
  timeMs: number;
}

/** A member publishing its name and client URLs (kept in the membership table, not the keyspace). */
export interface PublishRequest extends Base {
  op: 'publish';
  memberId: string;
  name: string;
  clientUrls: string[];
}
