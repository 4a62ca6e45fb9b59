/**
 * The Live view: a watch on any prefix whose events are listed as they happen, in index order.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EventJSON } from './api.js';
import { watchLoop, watchPrefix } from './watch-loop.js';
import { shortValue } from './short-value.js';

/** Most events kept on screen. */
const MAX_SHOWN = 500;
/** Events arriving this close together are shown in one render. */
const RENDER_EVERY_MS = 100;
/** A row of the table: the event with its values cut (the full ones are not kept). */
interface Row {
  index: number | undefined;
  action: string;
  key: string;
  value: string;
  prevValue: string;
}

function rowOf(e: EventJSON): Row {
  return {
    index: e.node?.modifiedIndex,
    action: e.action,
    key: `${e.node?.key ?? ''}${e.node?.dir ? '/' : ''}`,
    value: shortValue(e.node?.value),
    prevValue: shortValue(e.prevNode?.value),
  };
}

/** The Live view. */
export function LiveView() {
  const [prefix, setPrefix] = useState('/');
  const [watching, setWatching] = useState<string | undefined>(undefined);
  const [events, setEvents] = useState<Row[]>([]);
  const [state, setState] = useState('');
  const controller = useRef<AbortController | undefined>(undefined);
  const pending = useRef<Row[]>([]);
  const flushTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const stop = (): void => {
    controller.current?.abort();
    controller.current = undefined;
    setWatching(undefined);
    setState('stopped');
  };
  useEffect(() => () => {
    controller.current?.abort();
    clearTimeout(flushTimer.current);
  }, []);

  const flush = (): void => {
    flushTimer.current = undefined;
    const rows = pending.current;
    pending.current = [];
    setEvents((list) => [...list, ...rows].slice(-MAX_SHOWN));
  };

  const start = (): void => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    const p = watchPrefix(prefix);
    setWatching(p);
    setEvents([]);
    pending.current = [];
    void watchLoop(p, c.signal, {
      onEvent: (e) => {
        if (c.signal.aborted) return;
        pending.current.push(rowOf(e));
        if (pending.current.length > MAX_SHOWN) pending.current.splice(0, pending.current.length - MAX_SHOWN);
        flushTimer.current ??= setTimeout(flush, RENDER_EVERY_MS);
      },
      onState: (s) => setState(s === 'resynced' ? 'some events were too old for the history: resumed from now' : s),
    });
  };

  return (
    <section class="live" aria-label="live watch">
      <form class="row" onSubmit={(e) => { e.preventDefault(); start(); }}>
        <label for="watch-prefix">Watch prefix</label>
        <input id="watch-prefix" value={prefix} onInput={(e) => setPrefix((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">{watching === undefined ? 'Start watching' : 'Restart'}</button>
        {watching !== undefined && <button type="button" onClick={stop}>Stop</button>}
        <button type="button" onClick={() => setEvents([])}>Clear</button>
      </form>
      <p class="status" role="status" data-testid="watch-state">{watching !== undefined ? `Watching ${watching} recursively: ${state}` : state}</p>
      <table class="events" data-testid="events">
        <caption class="sr-only">Events, oldest first</caption>
        <thead><tr><th scope="col">Index</th><th scope="col">Action</th><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Previous value</th></tr></thead>
        <tbody>
          {events.map((r, i) => (
            <tr key={`${r.index}-${i}`}>
              <td class="idx">{r.index}</td>
              <td>{r.action}</td>
              <td><code>{r.key}</code></td>
              <td><code>{r.value}</code></td>
              <td><code>{r.prevValue}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
