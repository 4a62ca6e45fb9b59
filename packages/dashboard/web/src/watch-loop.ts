/**
 * A watch that never misses or reorders an event: a streamed `GET prefix?wait=true&recursive=true
 * &stream=true&waitIndex=N`, where N is one past the last event seen (or one past the index the
 * first read answered at), asked again from there whenever the stream ends. When the history no
 * longer holds N (etcd's 401), it starts over from now and says so.
 */
import { ApiError, EVENT_INDEX_CLEARED, UNAUTHORIZED, request, keysUrl, watchStream, type EventJSON } from './api.js';

/** What a watch reports besides events. */
export interface WatchCallbacks {
  onEvent(event: EventJSON): void;
  /** `watching`, `resynced` (events were missed), or an error text (retried after a second, except a refusal). */
  onState?(state: string): void;
  /** The user may not read the prefix: the watch has ended. */
  onRefused?(): void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * The store index now: from a read of `/` (it always exists, so the browser logs no failed
 * request), else, for a user who may not read `/`, from a read of `prefix` (a missing key answers
 * the index too).
 */
async function currentIndex(prefix: string, signal: AbortSignal): Promise<number> {
  for (const path of prefix === '/' ? ['/'] : ['/', prefix]) {
    try {
      return (await request<EventJSON>('GET', keysUrl(path), { signal })).etcdIndex;
    } catch (err) {
      if (err instanceof ApiError && err.index !== undefined && err.status === 404) return err.index;
      if (path === prefix) throw err;
    }
  }
  throw new Error('unreachable');
}

/**
 * The prefix to watch, as typed: a leading `/` added and, for anything but the root, a trailing one
 * (etcd's permission check of a recursive read matches `/dir/*` grants against `/dir/`, not `/dir`,
 * so a user granted `/dir/*` may watch `/dir/` only; for everyone else they are the same watch).
 */
export function watchPrefix(typed: string): string {
  const t = typed.trim();
  if (t === '' || t === '/') return '/';
  const p = t.startsWith('/') ? t : `/${t}`;
  return p.endsWith('/') ? p : `${p}/`;
}

/** Watches `prefix` (recursively) until `signal` aborts. */
export async function watchLoop(prefix: string, signal: AbortSignal, cb: WatchCallbacks): Promise<void> {
  let next: number | undefined;
  while (!signal.aborted) {
    try {
      if (next === undefined) {
        next = (await currentIndex(prefix, signal)) + 1;
      }
      const opened = Date.now();
      let got = 0;
      // Registered again after a failure: say so (the error shown stayed after the member was back).
      for await (const event of watchStream(prefix, next, { recursive: true, signal, onOpen: () => cb.onState?.('watching') })) {
        if (signal.aborted) return;
        next = (event.node?.modifiedIndex ?? next) + 1;
        got++;
        cb.onEvent(event);
      }
      // The server ended the stream: ask again from the next index (at once, unless it ended at
      // once and empty, which asked again at once would spin).
      if (got === 0 && Date.now() - opened < 1000) await sleep(1000, signal);
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.errorCode === EVENT_INDEX_CLEARED) {
        next = undefined;
        cb.onState?.('resynced');
        continue;
      }
      if (err instanceof ApiError && err.errorCode === UNAUTHORIZED) {
        // The user may not read this prefix: asking again every second would not change that.
        cb.onState?.(`not allowed for this user: ${err.message}`);
        cb.onRefused?.();
        return;
      }
      cb.onState?.(err instanceof Error ? err.message : String(err));
      await sleep(1000, signal);
    }
  }
}
