/**
 * A key's recent past from the store's event history: watches with `waitIndex` return, one by
 * one, the recorded events on the key at or after that index, without waiting while they exist.
 */
import { ApiError, EVENT_INDEX_CLEARED, watchOnce, type EventJSON } from './api.js';

/** How far back (in store indexes) the history is searched. */
const LOOKBACK = 1000;
/** Most events fetched (one request each). */
const MAX_EVENTS = 20;

/** The oldest index the history still holds, from etcd's 401 cause `the requested history has been cleared [oldest/asked]`. */
function oldestFrom(err: ApiError): number | undefined {
  const m = /\[(\d+)\/\d+\]/.exec(err.causeText ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Events on `path` from shortly before `upTo` through `upTo` (the index the page shows), oldest first. */
export async function keyHistory(path: string, upTo: number, signal: AbortSignal): Promise<EventJSON[]> {
  const events: EventJSON[] = [];
  let next = Math.max(1, upTo - LOOKBACK);
  while (next <= upTo && events.length < MAX_EVENTS && !signal.aborted) {
    let event: EventJSON;
    try {
      event = (await watchOnce(path, next, { signal })).body;
    } catch (err) {
      if (err instanceof ApiError && err.errorCode === EVENT_INDEX_CLEARED) {
        const oldest = oldestFrom(err);
        if (oldest === undefined || oldest <= next) throw err;
        next = oldest;
        continue;
      }
      throw err;
    }
    const index = event.node?.modifiedIndex ?? upTo + 1;
    if (index > upTo) break;
    events.push(event);
    next = index + 1;
  }
  return events;
}
