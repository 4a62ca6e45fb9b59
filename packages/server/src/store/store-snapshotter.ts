/**
 * Moves whole store states between the in-memory tree/history and the backend: loading on
 * open, capturing a raft snapshot, installing one.
 */
import type { StoreEvent } from './event.js';
import type { EventHistory } from './event-history.js';
import type { AppliedPosition, NodeRow, StoreBackend, StoreMeta } from './store-backend.js';
import { StoreStateError } from './store-errors.js';
import type { Tree } from './tree.js';

/** A whole store state as a plain JSON-able object (the raft snapshot payload). */
export interface StoreSnapshot {
  readonly version: 1;
  /** The store index. */
  readonly index: number;
  /** Every node but the root, parents first. */
  readonly nodes: readonly NodeRow[];
  /** The recent history (in-memory window), ascending, ending at `index` (or empty). */
  readonly events: readonly StoreEvent[];
}

/** Loads, captures and installs whole states for a `Store`. */
export class StoreSnapshotter {
  constructor(
    private readonly backend: StoreBackend,
    private readonly tree: Tree,
    private readonly history: EventHistory,
  ) {}

  /**
   * Rebuilds the tree and history from the backend; returns the persisted scalars. `prepared`, a
   * tree already built from the rows the backend now holds (tree-preload.ts), is taken instead of
   * reading them again.
   */
  load(prepared?: Tree): StoreMeta {
    const state = this.backend.load();
    if (prepared !== undefined) this.tree.adopt(prepared);
    else this.tree.load(state.nodes);
    const from = Math.max(state.historyStartIndex, state.storeIndex - this.history.memoryWindow + 1);
    const recent = from <= state.storeIndex ? this.backend.readEvents(from, state.storeIndex - from + 1) : [];
    this.history.reset(state.historyStartIndex, state.storeIndex, recent);
    return state;
  }

  /** The current state as a snapshot. */
  capture(index: number): StoreSnapshot {
    const nodes = [...this.tree.walk()].map((node) => node.toRow());
    return { version: 1, index, nodes, events: this.history.recentEvents() };
  }

  /** Replaces the backend's state with a snapshot (call `load` afterwards). */
  install(snapshot: StoreSnapshot, applied: AppliedPosition): void {
    if (snapshot.version !== 1 || !Number.isSafeInteger(snapshot.index) || !Array.isArray(snapshot.nodes)) {
      throw new StoreStateError('INVALID_SNAPSHOT', 'not a version 1 store snapshot');
    }
    const events = snapshot.events ?? [];
    events.forEach((event, i) => {
      const expected = snapshot.index - events.length + 1 + i;
      if (event?.index !== expected) throw new StoreStateError('INVALID_SNAPSHOT', `snapshot history is not contiguous up to ${snapshot.index}`);
    });
    const historyStartIndex = events.length > 0 ? events[0].index : snapshot.index + 1;
    this.backend.replaceAll({ storeIndex: snapshot.index, historyStartIndex, applied, nodes: snapshot.nodes, events });
  }
}
