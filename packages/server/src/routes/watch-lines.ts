/**
 * The text of a watch event, rendered once for every watcher it reaches. An event carries the
 * proposer's clock (`timeMs`), so its rendering (TTLs included) is the same for every watcher and
 * at any time; rendering it per watcher made a 100 KB value written to 200 stream watchers 20 MB of
 * JSON on the serving thread, enough to stall a member at a few such writes a second.
 *
 * Only the latest events' lines are kept (a bounded count and size): watchers take an event in the
 * turns right after it is applied, and a line kept for as long as the history keeps its event would
 * double the memory of a history of big values. A watcher far behind renders its own.
 */
import { watchEventLine } from '../http/write-response.js';
import { renderEvent, type StoreEvent } from '../store/index.js';

/** Lines kept at most, and characters over all of them. */
const MAX_LINES = 64;
const MAX_CHARS = 8 * 1024 * 1024;

/** Recent events' lines, oldest first (Map order). */
const lines = new Map<StoreEvent, string>();
let chars = 0;

/** The event's line (its JSON and a newline) as a watch writes it. */
export function watchLineOf(event: StoreEvent, nowMs: number): string {
  if (event.timeMs === undefined) return watchEventLine(renderEvent(event, nowMs));
  const kept = lines.get(event);
  if (kept !== undefined) return kept;
  const line = watchEventLine(renderEvent(event, nowMs));
  if (line.length > MAX_CHARS) return line;
  lines.set(event, line);
  chars += line.length;
  for (const [old, text] of lines) {
    if (lines.size <= MAX_LINES && chars <= MAX_CHARS) break;
    lines.delete(old);
    chars -= text.length;
  }
  return line;
}

/** Lines kept now (for tests). */
export function keptWatchLines(): number {
  return lines.size;
}
