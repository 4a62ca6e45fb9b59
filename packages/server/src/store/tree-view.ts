/**
 * A picture of the keyspace tree frozen at one store index, for a reader that visits it over many
 * event-loop turns (a big recursive GET rendered in slices) while mutations go on being applied.
 *
 * Why preimages: the store mutates nodes in place (`update` rewrites a node's value, indexes and
 * expiration; `set` over a file detaches the old node and attaches a new one; dirs gain and lose
 * children in their `Map`). So a reader cannot just keep node references: it would see values and
 * children of later indexes. Copying the whole subtree up front would block the loop for as long as
 * rendering it does. Instead, while a view is open the tree hands it the state of a node just before
 * the node first changes (its fields, or its child list): the copy-on-write half of a persistent
 * tree, paid only for what is written while readers are open. A node that never changes is read
 * live; a detached subtree is never mutated again, so references into it stay valid as they are.
 */
import type { StoreNode } from './node.js';

/** The fields of a node a reader renders (a `StoreNode` is one, read live). */
export interface NodeState {
  readonly path: string;
  readonly value: string | undefined;
  readonly isDir: boolean;
  readonly expireAtMs: number | undefined;
  readonly modifiedIndex: number;
  readonly createdIndex: number;
}

/** Where a renderer reads node fields and child lists from. */
export interface TreeSource {
  /** The fields of `node`. */
  state(node: StoreNode): NodeState;
  /** The children of dir `dir`, in insertion order (a fresh array the caller may sort). */
  children(dir: StoreNode): StoreNode[];
}

/** The live tree, for a render that finishes within one synchronous call. */
export const LIVE_TREE: TreeSource = {
  state: (node) => node,
  children: (dir) => Array.from((dir.children as Map<string, StoreNode>).values()),
};

/** A frozen state of one node (no getter, no parent: what a reader needs, nothing more). */
function frozenState(node: StoreNode): NodeState {
  return {
    path: node.path, value: node.value, isDir: node.isDir, expireAtMs: node.expireAtMs,
    modifiedIndex: node.modifiedIndex, createdIndex: node.createdIndex,
  };
}

/** The tree as it was when the view was opened (see the module comment). */
export class TreeView implements TreeSource {
  private readonly states = new Map<StoreNode, NodeState>();
  private readonly lists = new Map<StoreNode, StoreNode[]>();
  private keptUnits = 0;
  private released = false;

  /**
   * @param index the store index the view shows.
   * @param onClose called once by `close` (the tree stops feeding the view).
   */
  constructor(readonly index: number, private readonly onClose: (view: TreeView) => void) {}

  /**
   * What the view keeps alive beyond the live tree: one per saved node and child reference, plus
   * one per KiB of saved values. Grows with the writes applied while the view is open; a reader
   * that stays open too long is cut off on it.
   */
  get keptSize(): number {
    return this.keptUnits;
  }

  state(node: StoreNode): NodeState {
    return this.states.get(node) ?? node;
  }

  children(dir: StoreNode): StoreNode[] {
    const kept = this.lists.get(dir);
    return kept !== undefined ? kept.slice() : LIVE_TREE.children(dir);
  }

  /** Called by the tree just before the fields of `node` change. */
  keepState(node: StoreNode): void {
    if (this.states.has(node)) return;
    this.states.set(node, frozenState(node));
    this.keptUnits += 1 + ((node.value?.length ?? 0) >> 10);
  }

  /** Called by the tree just before the children of dir `dir` change. */
  keepChildren(dir: StoreNode): void {
    if (this.lists.has(dir)) return;
    const list = LIVE_TREE.children(dir);
    this.lists.set(dir, list);
    this.keptUnits += 1 + list.length;
  }

  /** Stops the tree feeding this view and drops what it kept. Idempotent. */
  close(): void {
    if (this.released) return;
    this.released = true;
    this.states.clear();
    this.lists.clear();
    this.onClose(this);
  }
}
