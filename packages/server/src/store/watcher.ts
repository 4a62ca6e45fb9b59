/**
 * One watch: a bounded buffer of events for one client plus one wake-up callback.
 * Kept deliberately small (no closures, no timers) so that thousands of idle watchers are cheap.
 */
import assert from 'node:assert/strict';
import type { StoreEvent } from './event.js';

/** Why a watcher stopped receiving events. */
export type WatcherCloseReason =
  /** A one-shot watcher got its event. */
  | 'delivered'
  /** The consumer closed it (client disconnect). */
  | 'closed'
  /** Its buffer was full: events were lost; the client must resume by index. */
  | 'overflowed'
  /** The store state was replaced (snapshot install): the client must resume by index. */
  | 'cleared';

/** The hub side a watcher needs for removing itself. */
export interface WatcherRegistry {
  /** Unregisters a watcher; O(1). */
  remove(watcher: Watcher): void;
}

/** Parameters of a watcher, fixed at registration. */
export interface WatcherParams {
  readonly key: string;
  readonly recursive: boolean;
  readonly stream: boolean;
  /** The lowest event index this watcher wants. */
  readonly sinceIndex: number;
  /** The store index at registration (the watch response's `X-Etcd-Index`). */
  readonly startIndex: number;
  /** Maximum buffered events before the watcher is closed as overflowed. */
  readonly capacity: number;
}

/**
 * A registered watch. The store pushes matching events into its bounded buffer and calls
 * the listener; the consumer drains with `take()` when it can write. A one-shot watcher
 * closes after its first event; a stream watcher closes only on `close()`, overflow or clear.
 */
export class Watcher {
  readonly key: string;
  readonly recursive: boolean;
  readonly stream: boolean;
  readonly sinceIndex: number;
  readonly startIndex: number;
  /** Most events buffered before the watcher overflows. */
  readonly capacity: number;
  private buffer: StoreEvent[] | undefined = undefined;
  private listener: (() => void) | undefined = undefined;
  private registry: WatcherRegistry | undefined = undefined;
  private reason: WatcherCloseReason | undefined = undefined;

  /** Made by the store's `watch()`; not constructed by consumers. */
  constructor(params: WatcherParams) {
    assert.ok(params.capacity >= 1, 'watcher capacity must be at least 1');
    this.key = params.key;
    this.recursive = params.recursive;
    this.stream = params.stream;
    this.sinceIndex = params.sinceIndex;
    this.startIndex = params.startIndex;
    this.capacity = params.capacity;
  }

  /** Whether no more events will arrive (buffered ones may still be taken). */
  get closed(): boolean {
    return this.reason !== undefined;
  }

  /** Why the watcher closed, if it did. */
  get closeReason(): WatcherCloseReason | undefined {
    return this.reason;
  }

  /** Whether the watcher was closed because its buffer filled up (events were lost). */
  get overflowed(): boolean {
    return this.reason === 'overflowed';
  }

  /** Number of buffered events. */
  get pending(): number {
    return this.buffer?.length ?? 0;
  }

  /** Whether the consumer is finished: closed and nothing left to take. */
  get done(): boolean {
    return this.closed && this.pending === 0;
  }

  /**
   * Sets the one callback called (synchronously, while the store applies) when events arrive
   * or the store closes the watcher (not after the consumer's own `close()`). Called at once if there is already something to take or it is
   * closed. It must not throw and should only schedule the write.
   */
  setListener(listener: (() => void) | undefined): void {
    this.listener = listener;
    if (listener !== undefined && (this.pending > 0 || this.closed)) listener();
  }

  /** Takes every buffered event, oldest first. */
  take(): StoreEvent[] {
    const events = this.buffer ?? [];
    this.buffer = undefined;
    return events;
  }

  /** Unregisters the watcher (client disconnect); idempotent, O(1). */
  close(): void {
    this.finish('closed');
  }

  /** @internal Links the watcher to the hub that holds it. */
  attach(registry: WatcherRegistry): void {
    assert.ok(this.registry === undefined && !this.closed, 'watcher attached twice or after close');
    this.registry = registry;
  }

  /** @internal Unlinks a live watcher from its hub, which dropped it, so that it can be added again. */
  detach(): void {
    this.registry = undefined;
  }

  /** @internal Offers a matching event; never blocks: a full buffer closes the watcher. */
  deliver(event: StoreEvent): void {
    if (this.closed) return;
    const buffer = this.buffer ?? (this.buffer = []);
    if (buffer.length >= this.capacity) {
      this.finish('overflowed');
      return;
    }
    buffer.push(event);
    if (!this.stream) {
      this.finish('delivered');
      return;
    }
    this.listener?.();
  }

  /** @internal Closes the watcher for `reason` and tells the consumer. */
  finish(reason: WatcherCloseReason): void {
    if (this.closed) return;
    this.reason = reason;
    const registry = this.registry;
    this.registry = undefined;
    registry?.remove(this);
    if (reason !== 'closed') this.listener?.();
  }
}
