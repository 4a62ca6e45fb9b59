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
  | PublishRequest
  | AuthRequest;

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
  /** The digits of a `prevIndex` past 2^53, which the number cannot hold exactly (for the failure's cause only). */
  prevIndexText?: string;
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
  /** The proposer's clock: the event's time (absent in entries of builds before it was sent). */
  timeMs?: number;
}

/** DELETE with `prevValue` and/or `prevIndex`. */
export interface CompareAndDeleteRequest extends Base {
  op: 'compareAndDelete';
  path: string;
  prevValue?: string;
  prevIndex?: number;
  /** As in {@link CompareAndSwapRequest}. */
  prevIndexText?: string;
  /** As in {@link DeleteRequest}. */
  timeMs?: number;
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

/** The read and write prefix lists of a role (`null`: never set, as etcd shows it). */
export interface KvPermissions {
  read: string[] | null;
  write: string[] | null;
}

/**
 * A change to the v2 auth state (users, roles, the enabled flag). A password is hashed by the
 * proposing member: only `passwordHash` (salted scrypt) is ever replicated.
 */
export interface AuthRequest extends Base {
  op: 'auth';
  action: 'putUser' | 'deleteUser' | 'putRole' | 'deleteRole' | 'enable' | 'disable';
  name?: string;
  passwordHash?: string;
  /** putUser: roles a new user starts with; grant/revoke update an existing user. */
  roles?: string[];
  grant?: string[];
  revoke?: string[];
  /** putRole: a new role's permissions; grantKv/revokeKv update an existing role. */
  permissions?: KvPermissions;
  grantKv?: KvPermissions;
  revokeKv?: KvPermissions;
  timeMs: number;
}
