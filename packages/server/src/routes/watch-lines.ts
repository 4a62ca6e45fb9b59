/**
 * The text of a watch event, rendered once for every watcher it reaches. An event carries the
 * proposer's clock (`timeMs`), so its rendering (TTLs included) is the same for every watcher and
 * at any time; rendering it per watcher made a 100 KB value written to 200 stream watchers 20 MB of
 * JSON on the serving thread, enough to stall a member at a few such writes a second.
 */
import { watchEventLine } from '../http/write-response.js';
import { renderEvent, type StoreEvent } from '../store/index.js';

const lines = new WeakMap<StoreEvent, string>();

/** The event's line (its JSON and a newline) as a watch writes it. */
export function watchLineOf(event: StoreEvent, nowMs: number): string {
  if (event.timeMs === undefined) return watchEventLine(renderEvent(event, nowMs));
  let line = lines.get(event);
  if (line === undefined) {
    line = watchEventLine(renderEvent(event, nowMs));
    lines.set(event, line);
  }
  return line;
}
