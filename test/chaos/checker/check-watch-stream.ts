/**
 * The watch-stream check: what a watcher received must be the committed events from its start
 * index on, in strictly increasing modifiedIndex order, without duplicates or gaps.
 */

/** A watch event as the suite records it (etcd's `action` and `node.key`/`node.modifiedIndex`). */
export interface WatchEvent {
  action: string;
  key: string;
  modifiedIndex: number;
  value?: string;
}

/** Options of {@link checkWatchStream}. */
export interface WatchStreamOptions {
  /** The watch's `waitIndex`: every delivered event must have `modifiedIndex >= fromIndex`. */
  fromIndex: number;
  /**
   * Every committed event under the watched key or prefix, in index order (from the final state or
   * the store's history). With it, the delivered events must be exactly the committed ones with
   * index in [fromIndex, last delivered index], matching in action, key and value.
   */
  committed?: readonly WatchEvent[];
  /** With `committed`: the watcher must also have received everything up to this index. */
  expectThroughIndex?: number;
}

/** The verdict of a stream check: `problems` lists every finding, one sentence each. */
export interface StreamCheckResult {
  ok: boolean;
  problems: string[];
}

/** Checks the events one watcher received; see {@link WatchStreamOptions}. */
export function checkWatchStream(events: readonly WatchEvent[], options: WatchStreamOptions): StreamCheckResult {
  const problems: string[] = [];
  let previous: WatchEvent | undefined;
  for (const [i, event] of events.entries()) {
    if (event.modifiedIndex < options.fromIndex) {
      problems.push(`event ${i} (${describe(event)}) is older than the watch start index ${options.fromIndex}`);
    }
    if (previous !== undefined && event.modifiedIndex === previous.modifiedIndex) {
      problems.push(`event ${i} (${describe(event)}) duplicates the previous event's index`);
    } else if (previous !== undefined && event.modifiedIndex < previous.modifiedIndex) {
      problems.push(`event ${i} (${describe(event)}) goes back from index ${previous.modifiedIndex}`);
    }
    previous = event;
  }
  if (options.committed !== undefined) problems.push(...compareWithCommitted(events, options));
  return { ok: problems.length === 0, problems };
}

function compareWithCommitted(events: readonly WatchEvent[], options: WatchStreamOptions): string[] {
  const committed = options.committed as readonly WatchEvent[];
  const problems: string[] = [];
  const byIndex = new Map(committed.map((e) => [e.modifiedIndex, e]));
  const delivered = new Map(events.map((e) => [e.modifiedIndex, e]));
  for (const event of events) {
    const expected = byIndex.get(event.modifiedIndex);
    if (expected === undefined) {
      problems.push(`delivered ${describe(event)} was never committed`);
    } else if (expected.action !== event.action || expected.key !== event.key || expected.value !== event.value) {
      problems.push(`delivered ${describe(event)} but the committed event at that index is ${describe(expected)}`);
    }
  }
  const lastDelivered = events.reduce((max, e) => Math.max(max, e.modifiedIndex), -Infinity);
  const through = Math.max(lastDelivered, options.expectThroughIndex ?? -Infinity);
  for (const expected of committed) {
    if (expected.modifiedIndex < options.fromIndex || expected.modifiedIndex > through) continue;
    if (!delivered.has(expected.modifiedIndex)) {
      const why = expected.modifiedIndex < lastDelivered ? 'a gap: later events were delivered' : 'not delivered';
      problems.push(`committed ${describe(expected)} is missing from the stream (${why})`);
    }
  }
  return problems;
}

function describe(e: WatchEvent): string {
  const value = e.value === undefined ? '' : ` = '${e.value}'`;
  return `${e.action} ${e.key}${value} @${e.modifiedIndex}`;
}
