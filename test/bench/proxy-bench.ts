/**
 * `npm run bench -- --proxy`: the same keys workloads against one deimos member directly and through a
 * `deimos-proxy` process in front of it, alternating direct/proxy runs so that machine drift hits both,
 * and reporting the proxy/direct throughput ratio per case (target for reads: at least 0.5). The
 * machine is shared, so besides the best runs it reports the ratio of each direct/proxy pair (range
 * and median) and the CPU each process spends per request, which load from elsewhere disturbs less.
 */
import { writeFileSync } from 'node:fs';
import { DeimosProcess } from '../support/deimos-process.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { runLoad, type LoadRequest, type LoadResult } from './load-generator.js';
import { cpuSeconds, machineInfo, type MachineInfo } from './process-stats.js';

/** Settings of the comparison. */
export interface ProxyBenchOptions {
  durationS: number;
  warmupS: number;
  runs: number;
  valueBytes: number;
  json?: string;
  log: (line: string) => void;
}

type Workload = 'write' | 'read-linearizable' | 'read-serializable';

interface Side {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  runsPerSecond: number[];
  /** CPU of the member (and the proxy, through the proxy) during the best run, % of one core. */
  memberCpuPercent: number;
  proxyCpuPercent?: number;
  /** CPU per successful request during the best run, µs. */
  memberCpuUsPerRequest: number;
  proxyCpuUsPerRequest?: number;
}

interface ProxyCase {
  workload: Workload;
  clients: number;
  direct: Side;
  proxy: Side;
  /** Best proxy run / best direct run. */
  ratio: number;
  /** proxy/direct of each alternating pair of runs. */
  pairRatios: number[];
}

const CASES: Array<{ workload: Workload; clients: number }> = [
  { workload: 'write', clients: 1 }, { workload: 'write', clients: 64 },
  { workload: 'read-linearizable', clients: 1 }, { workload: 'read-linearizable', clients: 64 },
  { workload: 'read-serializable', clients: 64 },
];

/** Runs the comparison; resolves with the exit code. */
export async function runProxyBench(opts: ProxyBenchOptions): Promise<number> {
  const machine = machineInfo();
  opts.log('starting 1 deimos member and a deimos-proxy in front of it ...');
  const member = await DeimosProcess.start({ name: 'bench1' });
  let proxy: ProxyProcess | undefined;
  try {
    proxy = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl, '--log-level', 'warn'] });
    const value = Buffer.from(`value=${'v'.repeat(opts.valueBytes)}`);
    let written = 0;
    const makers: Record<Workload, (seq: number) => LoadRequest> = {
      write: () => ({ method: 'PUT', path: `/v2/keys/pbench/k${written++}`, body: value, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
      'read-linearizable': (seq) => ({ method: 'GET', path: `/v2/keys/pbench/k${(seq * 7919) % Math.max(1, written)}` }),
      'read-serializable': (seq) => ({ method: 'GET', path: `/v2/keys/pbench/k${(seq * 7919) % Math.max(1, written)}?serializable=true` }),
    };
    const cases: ProxyCase[] = [];
    for (const c of CASES) {
      const pair = await measurePair(member, proxy, makers[c.workload], c.clients, opts);
      const ratio = pair.proxy.requestsPerSecond / Math.max(1e-9, pair.direct.requestsPerSecond);
      const pairRatios = pair.proxy.runsPerSecond.map((p, i) => p / Math.max(1e-9, pair.direct.runsPerSecond[i]!));
      cases.push({ ...c, ...pair, ratio, pairRatios });
      opts.log(`  ${c.workload} x${c.clients}: direct ${Math.round(pair.direct.requestsPerSecond)} req/s, `
        + `proxy ${Math.round(pair.proxy.requestsPerSecond)} req/s, ratio ${ratio.toFixed(2)} (pairs ${pairRatios.map((r) => r.toFixed(2)).join(' ')})`
        + `${pair.proxy.errors + pair.direct.errors ? ` (errors: ${pair.proxy.firstError ?? pair.direct.firstError})` : ''}`);
    }
    process.stdout.write(`${render(cases, opts, machine, machineInfo())}\n`);
    if (opts.json) {
      writeFileSync(opts.json, `${JSON.stringify({ startedAt: new Date().toISOString(), machine: { before: machine, after: machineInfo() }, settings: { ...opts, log: undefined }, cases }, null, 2)}\n`);
      opts.log(`JSON summary written to ${opts.json}`);
    }
    return cases.every((c) => c.proxy.errors === 0 && c.direct.errors === 0) ? 0 : 1;
  } finally {
    await proxy?.stop();
    await member.destroy();
  }
}

/** Warms up both, then alternates direct and proxy runs; keeps the best run of each. */
async function measurePair(member: DeimosProcess, proxy: ProxyProcess, makeRequest: (seq: number) => LoadRequest, clients: number, opts: ProxyBenchOptions): Promise<{ direct: Side; proxy: Side }> {
  const load = (url: string, durationMs: number) => runLoad({ url, concurrency: clients, durationMs, maxRequests: 5_000_000, makeRequest });
  const sides = { direct: { url: member.clientUrl, best: undefined as Side | undefined, runs: [] as number[] }, proxy: { url: proxy.url, best: undefined as Side | undefined, runs: [] as number[] } };
  if (opts.warmupS > 0) {
    await load(member.clientUrl, opts.warmupS * 1000);
    await load(proxy.url, opts.warmupS * 1000);
  }
  for (let i = 0; i < opts.runs; i++) {
    for (const name of ['direct', 'proxy'] as const) {
      const side = sides[name];
      const m0 = cpuSeconds(member.pid);
      const p0 = cpuSeconds(proxy.child.pid);
      const run: LoadResult = await load(side.url, opts.durationS * 1000);
      const memberCpu = cpuSeconds(member.pid) - m0;
      const proxyCpu = cpuSeconds(proxy.child.pid) - p0;
      const pct = (s: number) => (100 * s * 1000) / run.elapsedMs;
      const perRequest = (s: number) => (s * 1e6) / Math.max(1, run.ok);
      side.runs.push(run.requestsPerSecond);
      if (!side.best || run.requestsPerSecond > side.best.requestsPerSecond) {
        side.best = {
          requestsPerSecond: run.requestsPerSecond, p50Ms: run.latency.percentileMs(50), p99Ms: run.latency.percentileMs(99),
          errors: run.errors, firstError: run.firstError, runsPerSecond: [],
          memberCpuPercent: pct(memberCpu),
          proxyCpuPercent: name === 'proxy' ? pct(proxyCpu) : undefined,
          memberCpuUsPerRequest: perRequest(memberCpu),
          proxyCpuUsPerRequest: name === 'proxy' ? perRequest(proxyCpu) : undefined,
        };
      }
    }
  }
  return {
    direct: { ...sides.direct.best!, runsPerSecond: sides.direct.runs },
    proxy: { ...sides.proxy.best!, runsPerSecond: sides.proxy.runs },
  };
}

function render(cases: ProxyCase[], opts: ProxyBenchOptions, before: MachineInfo, after: MachineInfo): string {
  const f = (n: number | undefined, d = 0) => (n === undefined ? '—' : n.toFixed(d));
  const load = (m: MachineInfo) => `load ${m.loadAverage.map((l) => l.toFixed(1)).join(' ')}${m.cpuPressure10s !== undefined ? `, CPU pressure ${m.cpuPressure10s.toFixed(0)}%` : ''}`;
  const lines = [
    '## deimos-proxy vs direct (1 member, loopback keep-alive HTTP)',
    '',
    `${opts.runs} run(s) of ${opts.durationS} s per side after ${opts.warmupS} s warm-up, best kept; ${opts.valueBytes}-byte values; direct and proxy runs alternate.`,
    `Machine: ${before.cpuCount} × ${before.cpuModel}; before: ${load(before)}; after: ${load(after)}.`,
    '',
    '| case | direct req/s | proxy req/s | proxy/direct (best) | pairs: min–max (median) | direct p99 ms | proxy p99 ms | member µs/req (direct / proxy) | proxy µs/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of cases) {
    const sorted = [...c.pairRatios].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    lines.push(`| ${c.workload} x${c.clients} | ${f(c.direct.requestsPerSecond)} | ${f(c.proxy.requestsPerSecond)} | **${f(c.ratio, 2)}** | ${f(sorted[0], 2)}–${f(sorted.at(-1), 2)} (${f(median, 2)}) | ${f(c.direct.p99Ms, 2)} | ${f(c.proxy.p99Ms, 2)} | ${f(c.direct.memberCpuUsPerRequest)} / ${f(c.proxy.memberCpuUsPerRequest)} | ${f(c.proxy.proxyCpuUsPerRequest)} |`);
  }
  const reads = cases.filter((c) => c.workload !== 'write' && c.clients > 1);
  const worst = Math.min(...reads.map((c) => c.ratio));
  lines.push('', `Reads x64 through the proxy: worst ratio ${worst.toFixed(2)} (target ≥ 0.50: ${worst >= 0.5 ? 'met' : 'NOT met'}).`);
  lines.push('The machine has 2 cores shared by the load generator, the member and the proxy: through the proxy, three busy processes share them.');
  lines.push('µs/req is the CPU time of a process divided by its successful requests: it is what the proxy costs, less disturbed by load from elsewhere than req/s.');
  return lines.join('\n');
}
