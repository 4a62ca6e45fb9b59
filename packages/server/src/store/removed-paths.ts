/**
 * The paths a removed (deleted or expired) directory held. etcd wakes a live watcher inside a
 * removed directory only when the watcher's own path was in it (its removal notifies each path it
 * takes out): a watch on `/d/never` stays waiting when `/d` is deleted, a watch on `/d/a` gets the
 * event of `/d`. History scans are not narrowed: etcd's matches every path below a removed
 * directory, and so does ours (an event in the history carries no paths).
 */
import type { StoreNode } from './node.js';
import { isBelow } from './store-path.js';

/** Which paths a removed directory held (its own path excluded). */
export interface RemovedPaths {
  /** Whether `path` was a node inside the removed directory. */
  has(path: string): boolean;
}

/** The removed directory's own subtree, detached from the tree and never changed again. */
export class RemovedSubtree implements RemovedPaths {
  constructor(private readonly dir: StoreNode) {}

  has(path: string): boolean {
    if (!isBelow(path, this.dir.path)) return false;
    // Children are keyed by their full path: look each prefix up, one segment deeper each time.
    let node: StoreNode | undefined = this.dir;
    let at = this.dir.path.length;
    for (;;) {
      const next = path.indexOf('/', at + 1);
      node = node.children?.get(next < 0 ? path : path.slice(0, next));
      if (node === undefined) return false;
      if (next < 0) return true;
      at = next;
    }
  }

  /**
   * Every path inside, parents first; undefined when there are more than `limit` of them or their
   * lengths sum past `maxChars` (keys may be long: 10,000 paths of 8 KiB would be 80 MB).
   */
  list(limit: number, maxChars: number): string[] | undefined {
    const out: string[] = [];
    let chars = 0;
    const stack: StoreNode[] = [this.dir];
    while (stack.length > 0) {
      const children = stack.pop()!.children;
      if (children === undefined) continue;
      for (const child of children.values()) {
        chars += child.path.length;
        if (out.length === limit || chars > maxChars) return undefined;
        out.push(child.path);
        if (child.children !== undefined && child.children.size > 0) stack.push(child);
      }
    }
    return out;
  }
}

/** Paths received as a list (a client worker's copy of the primary's `RemovedSubtree`). */
export class RemovedPathSet implements RemovedPaths {
  private readonly paths: ReadonlySet<string>;

  constructor(paths: Iterable<string>) {
    this.paths = new Set(paths);
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }
}
