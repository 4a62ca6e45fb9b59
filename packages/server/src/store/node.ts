/**
 * A node of the in-memory keyspace tree: a file (with a value) or a directory (with children).
 */
import type { NodeRecord } from './event.js';
import type { NodeRow } from './store-backend.js';

/** One file or directory of the keyspace tree. Mutated only by the store. */
export class StoreNode {
  /** The clean absolute path (`/` for the root). */
  readonly path: string;
  parent: StoreNode | undefined;
  /** The value of a file; `undefined` for a directory. */
  value: string | undefined;
  /**
   * The children of a directory in insertion order, keyed by their path (the very string each child
   * holds, so a child costs no second string for its name); `undefined` for a file.
   */
  readonly children: Map<string, StoreNode> | undefined;
  createdIndex: number;
  modifiedIndex: number;
  /** Absolute expiration (ms since the epoch); `undefined` when permanent. */
  expireAtMs: number | undefined;
  /** Position in the TTL heap, -1 when not in it (owned by `TtlHeap`). */
  heapIndex = -1;

  private constructor(path: string, value: string | undefined, index: number, expireAtMs: number | undefined) {
    this.path = path;
    this.parent = undefined;
    this.value = value;
    this.children = value === undefined ? new Map() : undefined;
    this.createdIndex = index;
    this.modifiedIndex = index;
    this.expireAtMs = expireAtMs;
  }

  /** Makes a detached file node. */
  static file(path: string, value: string, index: number, expireAtMs: number | undefined): StoreNode {
    return new StoreNode(path, value, index, expireAtMs);
  }

  /** Makes a detached directory node. */
  static dir(path: string, index: number, expireAtMs: number | undefined): StoreNode {
    return new StoreNode(path, undefined, index, expireAtMs);
  }

  /** Rebuilds a detached node from its persisted row. */
  static fromRow(row: NodeRow): StoreNode {
    const node = row.dir
      ? StoreNode.dir(row.path, row.createdIndex, row.expireAtMs)
      : StoreNode.file(row.path, row.value ?? '', row.createdIndex, row.expireAtMs);
    node.modifiedIndex = row.modifiedIndex;
    return node;
  }

  /** Whether this node is a directory. */
  get isDir(): boolean {
    return this.children !== undefined;
  }

  /** A frozen, non-recursive picture of this node (as `prevNode` shows it). */
  record(): NodeRecord {
    const { path: key, value, modifiedIndex, createdIndex, expireAtMs } = this;
    const dir = this.isDir;
    if (expireAtMs === undefined) {
      return dir ? { key, dir, modifiedIndex, createdIndex } : { key, value, dir, modifiedIndex, createdIndex };
    }
    return dir
      ? { key, dir, expireAtMs, modifiedIndex, createdIndex }
      : { key, value, dir, expireAtMs, modifiedIndex, createdIndex };
  }

  /** The persisted row of this node. */
  toRow(): NodeRow {
    return {
      path: this.path,
      dir: this.isDir,
      value: this.value,
      createdIndex: this.createdIndex,
      modifiedIndex: this.modifiedIndex,
      expireAtMs: this.expireAtMs,
    };
  }
}
