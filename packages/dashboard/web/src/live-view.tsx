/**
 * The Live view: a watch on any prefix whose events are listed as they happen, in index order.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EventJSON } from './api.js';
import { watchLoop } from './watch-loop.js';

/** Most events kept on screen. */
const MAX_SHOWN = 500;

/** The Live view. */
export function LiveView() {
  const [prefix, setPrefix] = useState('/');
  const [watching, setWatching] = useState<string | undefined>(undefined);
  const [events, setEvents] = useState<EventJSON[]>([]);
  const [state, setState] = useState('');
  const controller = useRef<AbortController | undefined>(undefined);

  const stop = (): void => {
    controller.current?.abort();
    controller.current = undefined;
    setWatching(undefined);
    setState('stopped');
  };
  useEffect(() => () => controller.current?.abort(), []);

  const start = (): void => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    const p = prefix.trim() === '' ? '/' : prefix.trim().startsWith('/') ? prefix.trim() : `/${prefix.trim()}`;
    setWatching(p);
    setEvents([]);
    void watchLoop(p, c.signal, {
      onEvent: (e) => setEvents((list) => [...list, e].slice(-MAX_SHOWN)),
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
          {events.map((e, i) => (
            <tr key={`${e.node?.modifiedIndex}-${i}`}>
              <td class="idx">{e.node?.modifiedIndex}</td>
              <td>{e.action}</td>
              <td><code>{e.node?.key}{e.node?.dir ? '/' : ''}</code></td>
              <td><code>{e.node?.value ?? ''}</code></td>
              <td><code>{e.prevNode?.value ?? ''}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
