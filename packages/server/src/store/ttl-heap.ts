/**
 * The TTL heap: nodes with an expiration, ordered by (expireAtMs, path) so that expiry order
 * is identical on every replica. No per-key timers: the SYNC entry drains it.
 */
import assert from 'node:assert/strict';
import type { StoreNode } from './node.js';

function before(a: StoreNode, b: StoreNode): boolean {
  const x = a.expireAtMs as number;
  const y = b.expireAtMs as number;
  return x < y || (x === y && a.path < b.path);
}

/** An indexed binary min-heap of expiring nodes (the node stores its own position). */
export class TtlHeap {
  private readonly items: StoreNode[] = [];

  /** Number of expiring nodes. */
  get size(): number {
    return this.items.length;
  }

  /** The node that expires first, if any. */
  peek(): StoreNode | undefined {
    return this.items[0];
  }

  /** Adds a node that has an expiration and is not yet in the heap. */
  push(node: StoreNode): void {
    assert.ok(node.expireAtMs !== undefined && node.heapIndex === -1, 'ttl heap push of a bad node');
    node.heapIndex = this.items.length;
    this.items.push(node);
    this.up(node.heapIndex);
  }

  /** Removes a node if it is in the heap. */
  remove(node: StoreNode): void {
    const i = node.heapIndex;
    if (i === -1) return;
    assert.equal(this.items[i], node, 'ttl heap index out of sync');
    const last = this.items.pop() as StoreNode;
    node.heapIndex = -1;
    if (i === this.items.length) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  /** Takes every node of `other` (which is left empty); this heap must be empty. */
  adopt(other: TtlHeap): void {
    assert.ok(this.items.length === 0, 'ttl heap adopt into a heap in use');
    // The same order, so each node's position stays right. (A loop: spreading 200k items overflows.)
    for (const node of other.items) this.items.push(node);
    other.items.length = 0;
  }

  /** Removes every node. */
  clear(): void {
    for (const node of this.items) node.heapIndex = -1;
    this.items.length = 0;
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(items[i], items[p])) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && before(items[l], items[m])) m = l;
      if (r < items.length && before(items[r], items[m])) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items[i];
    const b = this.items[j];
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }
}
