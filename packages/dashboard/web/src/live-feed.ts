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
  private controller: AbortController | undefined;

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
    void watchLoop('/', controller.signal, {
      onEvent: (event) => {
        for (const l of [...this.listeners]) l(event);
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
