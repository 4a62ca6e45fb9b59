/**
 * An in-memory `StoreBackend` for tests and simulations: same contract as SQLite, no I/O.
 * Its contents survive a `Store` being dropped and reopened over it (a simulated restart).
 */
import assert from 'node:assert/strict';
import type { StoreEvent } from './event.js';
import { EMPTY_META } from './store-backend.js';
import type {
  BackendBatch, BackendReplacement, BackendState, NodeRow, StoreBackend, StoreMeta,
} from './store-backend.js';
import { compareKeys, isAtOrBelow } from './store-path.js';

/** A `StoreBackend` holding everything in maps. */
export class MemoryBackend implements StoreBackend {
  private nodes = new Map<string, NodeRow>();
  private events = new Map<number, StoreEvent>();
  private meta: StoreMeta = EMPTY_META;
  private closed = false;
  /** Number of committed batches (lets tests check one commit per batch). */
  commitCount = 0;

  load(): BackendState {
    this.assertOpen();
    const nodes = [...this.nodes.values()].sort((a, b) => compareKeys(a.path, b.path));
    return { ...this.meta, nodes };
  }

  readEvents(fromIndex: number, limit: number): StoreEvent[] {
    this.assertOpen();
    const out: StoreEvent[] = [];
    for (let i = Math.max(fromIndex, this.meta.historyStartIndex); out.length < limit; i++) {
      const event = this.events.get(i);
      if (event === undefined) break;
      out.push(event);
    }
    return out;
  }

  commit(batch: BackendBatch): void {
    this.assertOpen();
    for (const change of batch.changes) {
      if (change.kind === 'put') {
        this.nodes.set(change.row.path, change.row);
      } else {
        for (const path of [...this.nodes.keys()]) {
          if (isAtOrBelow(path, change.path)) this.nodes.delete(path);
        }
      }
    }
    for (const event of batch.events) this.events.set(event.index, event);
    for (let i = this.meta.historyStartIndex; i < batch.historyStartIndex; i++) this.events.delete(i);
    this.meta = { storeIndex: batch.storeIndex, historyStartIndex: batch.historyStartIndex, applied: batch.applied };
    this.commitCount++;
  }

  replaceAll(state: BackendReplacement): void {
    this.assertOpen();
    this.nodes = new Map(Array.from(state.nodes, (row) => [row.path, row]));
    this.events = new Map(state.events.map((event) => [event.index, event]));
    this.meta = { storeIndex: state.storeIndex, historyStartIndex: state.historyStartIndex, applied: state.applied };
  }

  close(): void {
    this.closed = true;
  }

  /** Reopens a closed backend with its contents (a simulated process restart). */
  reopen(): this {
    this.closed = false;
    return this;
  }

  private assertOpen(): void {
    assert.ok(!this.closed, 'memory backend used after close');
  }
}
