/**
 * Places persisted node rows into a tree, one row at a time, in any order: what `Tree.load` does
 * in one run, and what a snapshot preload does in steps between which the member's thread serves
 * (see tree-preload.ts).
 */
import { StoreNode } from './node.js';
import type { NodeRow } from './store-backend.js';
import { ROOT_PATH } from './store-path.js';
import type { Tree } from './tree.js';

/**
 * Linear in the rows: each parent is found by its path among the dirs placed so far, not by walking
 * down from the root (which cost O(depth^2) per row, O(depth^3) per chain of nested dirs). A row
 * that comes before its parent's waits, and such rows are placed by {@link finish}, shallowest
 * first; the rows of a state database come mostly parents first, so almost none wait and each row
 * is garbage at once.
 */
export class TreeLoader {
  private readonly dirs: Map<string, StoreNode>;
  private readonly waiting: NodeRow[] = [];

  /** Loads into `tree`, which must be empty. */
  constructor(private readonly tree: Tree) {
    this.dirs = new Map([[ROOT_PATH, tree.root]]);
  }

  /** Places a row, or keeps it for {@link finish} while its parent has not come. */
  add(row: NodeRow): void {
    const parent = this.dirs.get(parentPathOf(row.path));
    if (parent === undefined) this.waiting.push(row);
    else this.place(row, parent);
  }

  /** Places the rows that waited; throws (100 or 104) for a row whose parent dir never came. */
  finish(): void {
    if (this.waiting.length === 0) return;
    this.waiting.sort((a, b) => depthOf(a.path) - depthOf(b.path));
    for (const row of this.waiting) {
      const parentPath = parentPathOf(row.path);
      this.place(row, this.dirs.get(parentPath) ?? this.tree.lookup(parentPath, 0));
    }
    this.waiting.length = 0;
  }

  private place(row: NodeRow, parent: StoreNode): void {
    const node = StoreNode.fromRow(row);
    this.tree.attach(parent, node);
    if (node.isDir) this.dirs.set(node.path, node);
  }
}

/** The path of a row's parent dir (`/` for a child of the root). */
function parentPathOf(path: string): string {
  return path.slice(0, Math.max(1, path.lastIndexOf('/')));
}

/** How many '/' a path holds: its depth below the root. */
function depthOf(path: string): number {
  let n = 0;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) n++;
  return n;
}
