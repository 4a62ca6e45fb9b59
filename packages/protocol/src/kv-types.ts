/**
 * The etcd v2 keys API JSON shapes, with etcd's exact field names and order.
 */

/** Actions a keys event can carry. */
export type Action =
  | 'get'
  | 'create'
  | 'set'
  | 'update'
  | 'delete'
  | 'compareAndSwap'
  | 'compareAndDelete'
  | 'expire';

/** A node as written on the wire (field order matters for byte-compatibility with etcd). */
export interface NodeJSON {
  key?: string;
  value?: string;
  dir?: true;
  /** RFC3339Nano UTC, trailing zeros trimmed. */
  expiration?: string;
  /** Seconds remaining, rounded up; omitted when 0. */
  ttl?: number;
  nodes?: NodeJSON[];
  modifiedIndex?: number;
  createdIndex?: number;
}

/** A keys API response or watch event. */
export interface EventJSON {
  action: Action;
  node?: NodeJSON;
  prevNode?: NodeJSON;
}

/** A cluster member as the members API shows it. */
export interface MemberJSON {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}
