/**
 * The Metrics view: live charts from the serving member's own `/metrics` (polled every second,
 * the last two minutes kept): requests per second by kind, write latency, WAL fsync
 * latency, watchers and memory.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, metricsText } from './api.js';
import { Chart } from './chart.js';
import { bucketsOf, has, parsePromText, quantileBetween, sumOf, type Sample } from './prom-text.js';

const POLL_MS = 1000;
/** Points kept per series (two minutes). */
const KEEP = 120;

const REQUESTS = 'deimos_http_requests_total';
const LATENCY = 'deimos_http_request_duration_seconds';
const FSYNC = 'deimos_wal_fsync_duration_seconds';
const KINDS = ['GET', 'PUT', 'POST', 'DELETE'] as const;
const MEMORY = 'deimos_process_resident_memory_bytes';
const HEAP = 'deimos_process_heap_used_bytes';
/** What deimos-proxy's /metrics has instead. */
const PROXY_REQUESTS = 'deimos_proxy_requests_received_total';
const PROXY_LATENCY = 'deimos_proxy_upstream_latency_seconds';
const PROCESS_MEMORY = 'process_resident_memory_bytes';

type Series = [number[], ...(number | null)[][]];

interface Histories {
  requests: Series;
  latency: Series;
  fsync: Series;
  watchers: Series;
  memory: Series;
}

function empty(lines: number): Series {
  return [[], ...Array.from({ length: lines }, () => [] as (number | null)[])];
}

function push(series: Series, t: number, values: (number | null)[]): Series {
  const next = series.map((a) => a.slice(-(KEEP - 1))) as Series;
  next[0].push(t);
  values.forEach((v, i) => (next[i + 1] as (number | null)[]).push(v));
  return next;
}

/** Average and p99 (ms) of a histogram's observations between two snapshots, over the label sets `matches`. */
function latencyMs(prev: Sample[], cur: Sample[], name: string, matches: Record<string, string>[]): [number | null, number | null] {
  const total = (samples: Sample[], suffix: string): number => matches.reduce((s, m) => s + sumOf(samples, `${name}${suffix}`, m), 0);
  const count = total(cur, '_count') - total(prev, '_count');
  if (count <= 0) return [null, null];
  const avg = ((total(cur, '_sum') - total(prev, '_sum')) / count) * 1000;
  const merged = (samples: Sample[]): Map<number, number> => {
    const all = new Map<number, number>();
    for (const m of matches) for (const [le, n] of bucketsOf(samples, name, m)) all.set(le, (all.get(le) ?? 0) + n);
    return all;
  };
  const p99 = quantileBetween(merged(prev), merged(cur), 0.99);
  return [avg, p99 === undefined ? null : p99 * 1000];
}

/** The keys API's writes: every method but GET (whose long-polling watches would swamp it). */
const WRITES = ['PUT', 'POST', 'DELETE'].map((method) => ({ route: 'keys', method }));

/** The Metrics view. */
export function MetricsView() {
  const [h, setH] = useState<Histories>({ requests: empty(5), latency: empty(2), fsync: empty(2), watchers: empty(1), memory: empty(2) });
  const [error, setError] = useState<string | undefined>(undefined);
  const [missing, setMissing] = useState<string[]>([]);
  const [proxied, setProxied] = useState(false);
  const prev = useRef<{ t: number; samples: Sample[] } | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const samples = parsePromText(await metricsText());
        const t = Date.now() / 1000;
        const p = prev.current;
        prev.current = { t, samples };
        setError(undefined);
        // Behind deimos-proxy this is the proxy's own /metrics: its requests, the time to its members'
        // answers and its memory are charted instead of the member's; what neither has is named.
        const proxied = !has(samples, REQUESTS) && has(samples, PROXY_REQUESTS);
        setProxied(proxied);
        setMissing([REQUESTS, LATENCY, FSYNC, 'deimos_store_watchers', MEMORY, HEAP]
          .filter((n) => !has(samples, n) && !has(samples, `${n}_count`))
          .filter((n) => !(proxied && (n === REQUESTS || n === LATENCY)) && !(n === MEMORY && has(samples, PROCESS_MEMORY))));
        if (p !== undefined && !stopped) {
          const dt = t - p.t;
          const rate = (match: Record<string, string>): number => Math.max(0, (sumOf(samples, REQUESTS, match) - sumOf(p.samples, REQUESTS, match)) / dt);
          const keys = KINDS.map((m) => rate({ route: 'keys', method: m }));
          const other = proxied
            ? Math.max(0, (sumOf(samples, PROXY_REQUESTS) - sumOf(p.samples, PROXY_REQUESTS)) / dt)
            : rate({}) - KINDS.reduce((s, m) => s + rate({ route: 'keys', method: m }), 0);
          const mb = (n: string): number | null => (has(samples, n) ? sumOf(samples, n) / 1048576 : null);
          setH((old) => ({
            requests: push(old.requests, t, [...keys, Math.max(0, other)]),
            latency: push(old.latency, t, proxied ? latencyMs(p.samples, samples, PROXY_LATENCY, [{}]) : latencyMs(p.samples, samples, LATENCY, WRITES)),
            fsync: push(old.fsync, t, latencyMs(p.samples, samples, FSYNC, [{}])),
            watchers: push(old.watchers, t, [has(samples, 'deimos_store_watchers') ? sumOf(samples, 'deimos_store_watchers') : null]),
            memory: push(old.memory, t, [mb(MEMORY) ?? mb(PROCESS_MEMORY), mb(HEAP)]),
          }));
        }
      } catch (err) {
        if (!stopped) setError(describeError(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => { stopped = true; clearTimeout(timer); };
  }, []);

  return (
    <section class="metrics" aria-label="metrics">
      {error !== undefined && <p class="error" role="alert">Cannot read /metrics: {error}</p>}
      {proxied && <p class="muted" data-testid="proxied">Served by deimos-proxy: the charts show the proxy's own requests (as other), the time to its members' answers and its memory.</p>}
      {missing.length > 0 && <p class="muted">Not in this server's /metrics{proxied ? ' (a proxy has its own)' : ''}: {missing.join(', ')}</p>}
      <div class="charts">
        <Chart title="Requests per second by kind" unit="req/s" data={h.requests} lines={[
          { label: 'GET', color: '#1f77b4' }, { label: 'PUT', color: '#d62728' }, { label: 'POST', color: '#9467bd' },
          { label: 'DELETE', color: '#8c564b' }, { label: 'other', color: '#7f7f7f' },
        ]} />
        <Chart title={proxied ? "Time to the members' answers (every request)" : 'Write latency (keys PUT, POST, DELETE)'} unit="ms" data={h.latency} lines={[{ label: 'average', color: '#2ca02c' }, { label: 'p99 (bucket bound)', color: '#ff7f0e' }]} />
        <Chart title="WAL fsync latency" unit="ms" data={h.fsync} lines={[{ label: 'average', color: '#2ca02c' }, { label: 'p99 (bucket bound)', color: '#ff7f0e' }]} />
        <Chart title="Watchers" unit="count" data={h.watchers} lines={[{ label: 'watchers', color: '#17becf' }]} />
        <Chart title="Memory" unit="MiB" data={h.memory} lines={[{ label: 'resident', color: '#1f77b4' }, { label: 'heap used', color: '#bcbd22' }]} />
      </div>
    </section>
  );
}
