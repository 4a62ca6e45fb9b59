/**
 * The watches of a client worker. The worker holds no keyspace: it follows the primary's stream of
 * applied events (in apply order, see docs/multi-core.md) and keeps the recent ones, so that a
 * watch is registered at once and woken by the same rules as the store's own (`WatcherHub`).
 *
 * - No `waitIndex`: the watch starts after the primary's store index P when it is asked (`start`),
 *   as it would in one process: a client that saw a write answered by another worker, then
 *   watches here, does not get that write. The primary answers at P after sending every event up
 *   to P and none after, so registering the watcher when the answer comes misses nothing.
 * - `waitIndex` within the window: scanned here, as `Store.watch` scans its history.
 * - Older: the primary scans its history (`fetch`); the watcher is registered when the answer
 *   comes. The primary answers at its store index P after sending every event up to P and none
 *   after, so the answer's events and the live ones that follow it neither overlap nor leave a gap.
 */
import { EtcdError, ErrorCode } from '@deimos/protocol';
import { matchesHistory } from '../store/store.js';
import { ROOT_PATH } from '../store/store-path.js';
import { WatcherHub } from '../store/watcher-hub.js';
import type { RemovedPaths } from '../store/removed-paths.js';
import { Watcher, type StoreEvent, type WatchOptions } from '../store/index.js';
import { isCleanPath } from '../store/index.js';

/** Events kept for watches that resume by index (the store keeps as many in memory). */
export const WATCH_WINDOW_EVENTS = 1000;

/** The primary's answer to a history scan. */
export type HistoryAnswer =
  /** `next`: the answer was cut for size; the rest is asked for from this index. */
  | { events: StoreEvent[]; error?: undefined; truncated: boolean; next?: number }
  | { events?: undefined; error: EtcdError; truncated?: undefined; next?: undefined };

/** Options of a {@link WatchWindow}. */
export interface WatchWindowOptions {
  /** The store index when the stream starts. */
  startIndex: number;
  /** Asks the primary for the events from `fromIndex` (default: the watcher's) that match `watcher`, up to its store index. */
  fetch(watcher: Watcher, done: (answer: HistoryAnswer) => void, fromIndex?: number): void;
  /** Asks the primary for its store index (undefined: no answer). */
  start(done: (index: number | undefined) => void): void;
  /** Default buffer of a stream watcher, in events (as the store's). */
  streamBufferSize?: number;
  /** Events the primary's history keeps (`--history-size`): its oldest kept index follows from it. */
  historyLimit: number;
  /** Events kept (default {@link WATCH_WINDOW_EVENTS}). */
  windowEvents?: number;
}

/** See the module comment. */
export class WatchWindow {
  private readonly hub = new WatcherHub();
  private recent: StoreEvent[] = [];
  private head = 0;
  private current: number;
  /**
   * The oldest index the primary's history holds at this worker's position: given with the first
   * status and after a reset, then moved exactly as `EventHistory.append` moves it.
   */
  historyStart = 1;
  private readonly limit: number;

  constructor(private readonly options: WatchWindowOptions) {
    this.current = options.startIndex;
    this.limit = options.windowEvents ?? WATCH_WINDOW_EVENTS;
  }

  /** The index of the last event received. */
  get index(): number {
    return this.current;
  }

  /** Live watchers in this worker. */
  get watcherCount(): number {
    return this.hub.count;
  }

  /** Takes the next applied event (they come in index order); `inside` as for `WatcherHub.notify`. */
  apply(event: StoreEvent, inside?: RemovedPaths): void {
    this.current = event.index;
    if (this.current - this.historyStart + 1 > this.options.historyLimit) this.historyStart = this.current - this.options.historyLimit + 1;
    this.recent.push(event);
    // Trimmed in halves, so that keeping the window costs O(1) per event.
    if (this.recent.length - this.head > this.limit) {
      this.head++;
      if (this.head >= this.limit) {
        this.recent = this.recent.slice(this.head);
        this.head = 0;
      }
    }
    this.hub.notify(event, inside);
  }

  /**
   * The primary's state was replaced (a snapshot install): stream watchers end as `cleared`, and
   * long polls still waiting are found again in the primary's new history, as in the store
   * (`Store.reload`): one history scan for all of them (from the oldest index they wait for), its
   * events given to them by the hub's live rules; a poll waiting past the new state is registered
   * at once. A scan the primary refuses or cuts short is asked again per poll.
   */
  reset(index: number): void {
    const polls = this.hub.takeOneShots();
    this.hub.closeAll('cleared');
    this.recent = [];
    this.head = 0;
    this.current = index;
    const waiting: Watcher[] = [];
    let from = Number.POSITIVE_INFINITY;
    for (const watcher of polls) {
      if (watcher.sinceIndex > index) this.hub.add(watcher);
      else if (watcher.sinceIndex < this.historyStart) watcher.finish('cleared');
      else {
        waiting.push(watcher);
        from = Math.min(from, watcher.sinceIndex);
      }
    }
    if (waiting.length > 0) this.refind(waiting, from, index);
  }

  /**
   * Asks the primary's history once for `polls` (from `from`) and gives its events to them by the
   * hub's live rules (a hidden key below a recursive watch reaches only a watch on that key), in a
   * hub of their own until the answer: the live events up to the answer's index are in it, those
   * after it come after it (see the module comment). Several polls are scanned for together, over
   * the whole keyspace; if that scan is refused or cut short, each is asked again alone, over its
   * own key; one whose own scan is refused ends as `cleared`.
   */
  private refind(polls: readonly Watcher[], from: number, index: number): void {
    const alone = polls.length === 1 ? polls[0]! : undefined;
    const scan = new Watcher({
      key: alone?.key ?? ROOT_PATH, recursive: alone?.recursive ?? true, stream: true, sinceIndex: from, startIndex: index, capacity: this.options.historyLimit,
    });
    this.options.fetch(scan, (answer) => {
      const found = new WatcherHub();
      for (const watcher of polls) if (!watcher.closed) found.add(watcher);
      if (answer.error === undefined) for (const event of answer.events) found.notify(event);
      const left = found.takeOneShots();
      if (answer.next !== undefined) {
        // Cut for size: every event before `next` was seen; those polls still waiting go on from there.
        if (left.length > 0) this.refind(left, answer.next, index);
        return;
      }
      if (answer.error === undefined && !answer.truncated) for (const watcher of left) this.hub.add(watcher);
      else if (alone === undefined) for (const watcher of left) this.refind([watcher], watcher.sinceIndex, index);
      else for (const watcher of left) watcher.finish('cleared');
    });
  }

  /**
   * Registers a watch, as `Store.watch` does; throws the `EtcdError` that answers it. Without
   * `waitIndex`, a promise of the watcher (registered once the primary's index is known).
   */
  watch(path: string, options: WatchOptions): Watcher | Promise<Watcher> {
    if (!isCleanPath(path)) throw new EtcdError(ErrorCode.KeyNotFound, path, this.current);
    const requested = options.sinceIndex ?? 0;
    const stream = options.stream ?? false;
    const make = (sinceIndex: number): Watcher => new Watcher({
      key: path,
      recursive: options.recursive ?? false,
      stream,
      sinceIndex,
      startIndex: this.current,
      capacity: stream ? options.bufferSize ?? this.options.streamBufferSize ?? 1000 : 1,
    });
    if (requested === 0) {
      return new Promise((resolve, reject) => this.options.start((index) => {
        if (index === undefined) return reject(new EtcdError(ErrorCode.RaftInternal, 'etcdserver: request timed out', 0));
        // The answer comes right after the event of `index`: this worker is there now.
        const watcher = make(index + 1);
        this.hub.add(watcher);
        resolve(watcher);
      }));
    }
    const watcher = make(requested);
    if (requested > 0 && requested <= this.current) {
      const windowStart = this.head < this.recent.length ? this.recent[this.head]!.index : this.current + 1;
      if (requested < windowStart) {
        if (requested < this.historyStart) {
          throw new EtcdError(ErrorCode.EventIndexCleared, `the requested history has been cleared [${this.historyStart}/${requested}]`, this.current);
        }
        this.options.fetch(watcher, (answer) => this.fetched(watcher, answer));
        return watcher;
      }
      for (let i = this.head + (requested - windowStart); i < this.recent.length && !watcher.closed; i++) {
        const event = this.recent[i]!;
        if (matchesHistory(event, watcher)) watcher.deliver(event);
      }
      if (watcher.closed) return watcher;
    }
    this.hub.add(watcher);
    return watcher;
  }

  /** Closes every watcher (the worker is stopping). */
  closeAll(): void {
    this.hub.closeAll('cleared');
  }

  private fetched(watcher: Watcher, answer: HistoryAnswer): void {
    if (watcher.closed) return;
    // The history was cleared meanwhile: end the watch; the client resumes by index as after a reset.
    if (answer.error !== undefined) return watcher.finish('cleared');
    for (const event of answer.events) watcher.deliver(event);
    if (answer.truncated) watcher.finish('overflowed');
    if (watcher.closed) return;
    // Cut for size (big values): the rest, in order, before the watcher joins the live events.
    if (answer.next !== undefined) return this.options.fetch(watcher, (more) => this.fetched(watcher, more), answer.next);
    this.hub.add(watcher);
  }
}
