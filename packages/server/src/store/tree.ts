/**
 * The keyspace tree: lookups with etcd's error causes, attaching and detaching nodes, and the
 * TTL heap kept in step with them. Knows nothing of events, watchers or persistence.
 */
import assert from 'node:assert/strict';
import { ErrorCode, EtcdError } from '@deimos/protocol';
import { StoreNode } from './node.js';
import type { NodeRow } from './store-backend.js';
import { ROOT_PATH, childPath } from './store-path.js';
import { TreeLoader } from './tree-loader.js';
import { TtlHeap } from './ttl-heap.js';
import { TreeView } from './tree-view.js';

/** Where a new node would go: the deepest existing directory and the missing dirs below it. */
export interface ParentResolution {
  readonly deepest: StoreNode;
  /** Names of directories to create under `deepest`, outermost first. */
  readonly missing: readonly string[];
}

/** The in-memory keyspace tree. */
export class Tree {
  /** The root directory (`/`, indexes 0, never expires). */
  readonly root = StoreNode.dir(ROOT_PATH, 0, undefined);
  /** Nodes with an expiration. */
  readonly ttlHeap = new TtlHeap();
  /** Open views: each is handed a node's state before the node changes (see tree-view.ts). */
  private readonly views = new Set<TreeView>();

  /** Opens a view of the tree as it is now (at store index `index`); close it when done. */
  openView(index: number): TreeView {
    const view = new TreeView(index, (v) => this.views.delete(v));
    this.views.add(view);
    return view;
  }

  /** Number of open views fed by the tree. */
  get openViews(): number {
    return this.views.size;
  }

  /**
   * Finds the node at `path`. Throws 104 (cause: the file in the way) when a component is a
   * file, 100 (cause: the first missing component) when something is missing.
   */
  lookup(path: string, currentIndex: number): StoreNode {
    let node = this.root;
    if (path === ROOT_PATH) return node;
    // Children are keyed by their path, so each step looks up the prefix ending at the next '/'.
    for (let end = 0; end < path.length;) {
      const slash = path.indexOf('/', end + 1);
      end = slash === -1 ? path.length : slash;
      const children = node.children;
      if (children === undefined) throw new EtcdError(ErrorCode.NotDir, node.path, currentIndex);
      const prefix = end === path.length ? path : path.slice(0, end);
      const child = children.get(prefix);
      if (child === undefined) throw new EtcdError(ErrorCode.KeyNotFound, prefix, currentIndex);
      node = child;
    }
    return node;
  }

  /** Like `lookup` but answers `undefined` for a missing node (a file in the way still throws 104). */
  find(path: string, currentIndex: number): StoreNode | undefined {
    try {
      return this.lookup(path, currentIndex);
    } catch (err) {
      if (err instanceof EtcdError && err.errorCode === ErrorCode.KeyNotFound) return undefined;
      throw err;
    }
  }

  /**
   * Walks to directory `dirPath` without changing anything. Throws 104 (cause: the file) when
   * a component is a file; missing components are reported for the caller to create.
   */
  resolveDir(dirPath: string, currentIndex: number): ParentResolution {
    let node = this.root;
    if (dirPath === ROOT_PATH) return { deepest: node, missing: [] };
    // `node.path` is `dirPath.slice(0, end)` (the root: end 0).
    for (let end = 0; end < dirPath.length;) {
      const slash = dirPath.indexOf('/', end + 1);
      const stop = slash === -1 ? dirPath.length : slash;
      const child = (node.children as Map<string, StoreNode>).get(stop === dirPath.length ? dirPath : dirPath.slice(0, stop));
      if (child === undefined) return { deepest: node, missing: dirPath.slice(end + 1).split('/') };
      if (!child.isDir) throw new EtcdError(ErrorCode.NotDir, child.path, currentIndex);
      node = child;
      end = stop;
    }
    return { deepest: node, missing: [] };
  }

  /** Creates the missing permanent directories of a resolution with `index`; returns the last dir and the new dirs. */
  createMissing(resolution: ParentResolution, index: number): { dir: StoreNode; created: StoreNode[] } {
    let dir = resolution.deepest;
    const created: StoreNode[] = [];
    for (const name of resolution.missing) {
      const next = StoreNode.dir(childPath(dir.path, name), index, undefined);
      this.attach(dir, next);
      created.push(next);
      dir = next;
    }
    return { dir, created };
  }

  /** Adds a detached node (and its TTL) under `parent`, which must not have a child of that name. */
  attach(parent: StoreNode, node: StoreNode): void {
    const children = parent.children;
    assert.ok(children !== undefined, 'attach under a file');
    // (Checked without building strings: this runs for every node a write creates and a load reads.)
    if (children.has(node.path)) assert.fail(`attach over an existing child ${node.path}`);
    assert.ok(isChildPathOf(parent.path, node.path), 'attach at the wrong path');
    if (this.views.size > 0) for (const view of this.views) view.keepChildren(parent);
    children.set(node.path, node);
    node.parent = parent;
    if (node.expireAtMs !== undefined) this.ttlHeap.push(node);
  }

  /** Removes a node and its whole subtree from the tree and the TTL heap. */
  detach(node: StoreNode): void {
    const parent = node.parent;
    assert.ok(parent !== undefined && node !== this.root, 'detach of the root or a detached node');
    if (this.views.size > 0) for (const view of this.views) view.keepChildren(parent);
    const removed = (parent.children as Map<string, StoreNode>).delete(node.path);
    assert.ok(removed, 'detach of a node its parent does not hold');
    node.parent = undefined;
    this.forgetTtls(node);
  }

  /** Changes a node's expiration, keeping the heap in step. */
  setExpiry(node: StoreNode, expireAtMs: number | undefined): void {
    if (this.views.size > 0) for (const view of this.views) view.keepState(node);
    this.ttlHeap.remove(node);
    node.expireAtMs = expireAtMs;
    if (expireAtMs !== undefined) this.ttlHeap.push(node);
  }

  /**
   * Rewrites a file's value and modified index in place. A directory keeps both, as in etcd 3.4's
   * store (its node write refuses directories and the update ignores the error): only the update's
   * event shows the new index, and later reads, prevNodes and listings the old one.
   */
  rewrite(node: StoreNode, value: string | undefined, modifiedIndex: number): void {
    if (node.isDir) return;
    if (this.views.size > 0) for (const view of this.views) view.keepState(node);
    node.value = value ?? '';
    node.modifiedIndex = modifiedIndex;
  }

  /**
   * Every node except the root, parents before children (pre-order). Iterative: a key may be
   * thousands of levels deep, and nested generators would cost O(depth) per node and the stack.
   */
  *walk(from: StoreNode = this.root): Generator<StoreNode> {
    if (from !== this.root) yield from;
    if (from.children === undefined) return;
    const stack: Iterator<StoreNode>[] = [from.children.values()];
    while (stack.length > 0) {
      const next = stack[stack.length - 1]!.next();
      if (next.done === true) {
        stack.pop();
        continue;
      }
      const node = next.value;
      yield node;
      if (node.children !== undefined && node.children.size > 0) stack.push(node.children.values());
    }
  }

  /** Replaces the whole tree with persisted rows, in any order (see tree-loader.ts). */
  load(rows: Iterable<NodeRow>): void {
    this.clear();
    const loader = new TreeLoader(this);
    for (const row of rows) loader.add(row);
    loader.finish();
  }

  /**
   * Replaces the whole tree with the nodes of `built` (a tree no one else uses, loaded off to the
   * side), which is left empty: the nodes move, nothing is copied.
   */
  adopt(built: Tree): void {
    assert.ok(built !== this && built.views.size === 0, 'adopt of a tree in use');
    this.clear();
    const children = this.root.children as Map<string, StoreNode>;
    for (const [path, child] of built.root.children as Map<string, StoreNode>) {
      child.parent = this.root;
      children.set(path, child);
    }
    (built.root.children as Map<string, StoreNode>).clear();
    this.ttlHeap.adopt(built.ttlHeap);
  }

  /** Empties the tree. */
  clear(): void {
    // Open views keep the old root's children; the old nodes are never mutated again, so the views
    // need nothing more from the tree.
    for (const view of this.views) view.keepChildren(this.root);
    this.views.clear();
    for (const child of (this.root.children as Map<string, StoreNode>).values()) child.parent = undefined;
    this.root.children?.clear();
    this.ttlHeap.clear();
  }

  private forgetTtls(node: StoreNode): void {
    if (this.ttlHeap.size === 0) return;
    this.ttlHeap.remove(node);
    if (node.children === undefined) return;
    for (const child of this.walk(node)) {
      if (child !== node) this.ttlHeap.remove(child);
    }
  }
}

/** Whether `path` names a direct child of the dir at `parentPath` (what `childPath` would make). */
function isChildPathOf(parentPath: string, path: string): boolean {
  return path.lastIndexOf('/') === (parentPath === ROOT_PATH ? 0 : parentPath.length) && path.startsWith(parentPath);
}
