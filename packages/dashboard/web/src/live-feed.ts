/**
 * The page's one watch on the whole keyspace: the tree and the open key subscribe to it and
 * refresh themselves when something under them changes.
 */
import type { EventJSON } from './api.js';
import { watchLoop } from './watch-loop.js';

/** A subscriber of keyspace events. */
export type FeedListener = (event: EventJSON) => void;

/** Fans out the events of one recursive watch on `/`. */
export class LiveFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly refusalListeners = new Set<() => void>();
  private controller: AbortController | undefined;
  private refusedNow = false;

  /**
   * True once the user was refused a watch on `/` (a user whose roles grant only parts of the
   * keyspace): views then watch what they show themselves.
   */
  get refused(): boolean {
    return this.refusedNow;
  }

  /** Calls `listener` when the watch on `/` is refused; the returned function removes it. */
  onRefused(listener: () => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the watch (again, after {@link stop}). */
  start(): void {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    this.refusedNow = false;
    void watchLoop('/', controller.signal, {
      onEvent: (event) => {
        for (const l of [...this.listeners]) l(event);
      },
      onRefused: () => {
        this.refusedNow = true;
        for (const l of [...this.refusalListeners]) l();
      },
    });
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
  }
}

/** The directory a key lives in (`/a/b` -> `/a`, `/a` -> `/`). */
export function parentOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i <= 0 ? '/' : key.slice(0, i);
}

/** The app's feed. */
export const feed = new LiveFeed();
