/**
 * The event history behind `waitIndex`: the last `limit` events, contiguous by index. Only a
 * recent window lives in memory; older events are read back from the backend on demand.
 */
import assert from 'node:assert/strict';
import type { StoreEvent } from './event.js';
import type { StoreBackend } from './store-backend.js';

/** Sizes of the history. */
export interface EventHistoryOptions {
  /** Events kept (in memory + backend) for `waitIndex` scans. */
  readonly limit: number;
  /** Recent events kept in memory. */
  readonly memorySize: number;
}

const BACKEND_PAGE = 1000;

/**
 * The kept events are exactly the indexes `startIndex..lastIndex` (every store index is one
 * event). The in-memory window always holds every event not yet committed to the backend.
 */
export class EventHistory {
  private readonly backend: StoreBackend;
  private readonly limit: number;
  private readonly memorySize: number;
  private recent: StoreEvent[] = [];
  private uncommitted = 0;
  private start = 1;
  private last = 0;

  /** Makes an empty history; call `reset` to position it. */
  constructor(backend: StoreBackend, options: EventHistoryOptions) {
    assert.ok(options.limit >= 1 && options.memorySize >= 1, 'history sizes must be positive');
    this.backend = backend;
    this.limit = options.limit;
    this.memorySize = Math.min(options.memorySize, options.limit);
  }

  /** The oldest kept event index (`lastIndex + 1` when nothing is kept). */
  get startIndex(): number {
    return this.start;
  }

  /** How many recent events are kept in memory. */
  get memoryWindow(): number {
    return this.memorySize;
  }

  /** The newest event index (= the store index). */
  get lastIndex(): number {
    return this.last;
  }

  /** Repositions the history after a load or snapshot; `recent` are committed, ascending, ending at `lastIndex`. */
  reset(startIndex: number, lastIndex: number, recent: StoreEvent[]): void {
    assert.ok(startIndex >= 1 && startIndex <= lastIndex + 1, 'history bounds out of order');
    if (recent.length > 0) {
      assert.equal(recent[recent.length - 1].index, lastIndex, 'recent history does not end at the store index');
      assert.ok(recent[0].index >= startIndex, 'recent history starts before the kept window');
    }
    this.start = startIndex;
    this.last = lastIndex;
    this.recent = recent;
    this.uncommitted = 0;
  }

  /** Appends the event of the next store index. */
  append(event: StoreEvent): void {
    assert.equal(event.index, this.last + 1, 'history must stay contiguous');
    this.recent.push(event);
    this.uncommitted++;
    this.last = event.index;
    if (this.last - this.start + 1 > this.limit) this.start = this.last - this.limit + 1;
  }

  /** How many events were appended since the last `markCommitted`. */
  get uncommittedCount(): number {
    return this.uncommitted;
  }

  /** The events appended since the last `markCommitted`, ascending. */
  uncommittedEvents(): StoreEvent[] {
    return this.recent.slice(this.recent.length - this.uncommitted);
  }

  /** Records that every appended event is durable, and trims the in-memory window. */
  markCommitted(): void {
    this.uncommitted = 0;
    const excess = this.recent.length - this.memorySize;
    if (excess > this.memorySize) this.recent = this.recent.slice(excess); // amortised O(1)
  }

  /** The kept events from the in-memory window, ascending (for snapshots). */
  recentEvents(): StoreEvent[] {
    const first = this.recent.findIndex((e) => e.index >= this.start);
    return first === -1 ? [] : this.recent.slice(first);
  }

  /**
   * Visits kept events with index >= `fromIndex` in order until `visit` returns true.
   * `fromIndex` must be >= `startIndex`.
   */
  scan(fromIndex: number, visit: (event: StoreEvent) => boolean): void {
    assert.ok(fromIndex >= this.start, 'history scan below the kept window');
    const memoryFirst = this.recent.length > 0 ? this.recent[0].index : this.last + 1;
    let next = fromIndex;
    while (next < memoryFirst) {
      const page = this.backend.readEvents(next, Math.min(BACKEND_PAGE, memoryFirst - next));
      assert.ok(page.length > 0 && page[0].index === next, `history event ${next} missing from the backend`);
      for (const event of page) {
        if (visit(event)) return;
      }
      next = page[page.length - 1].index + 1;
    }
    for (let i = Math.max(0, next - memoryFirst); i < this.recent.length; i++) {
      if (visit(this.recent[i])) return;
    }
  }
}
