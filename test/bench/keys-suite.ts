/**
 * The keys workloads against one target: distinct-key writes, then linearizable and serializable GETs
 * of the written keys, each at the configured client counts, warmed up and measured `runs` times keeping
 * the best; the servers' CPU and the machine's busy share are recorded alongside each measurement.
 */
import { findLeader, type BenchMember, type BenchTarget } from './bench-target.js';
import { runLoad, type LoadRequest, type LoadResult } from './load-generator.js';
import { machineJiffies, rssBytes, totalCpuSeconds } from './process-stats.js';
import { mib } from './report.js';

/** The three workloads. */
export type Workload = 'write' | 'read-linearizable' | 'read-serializable';

/** One measured case (the best of its runs). */
export interface CaseResult {
  workload: Workload;
  clients: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  ok: number;
  errors: number;
  firstError?: string;
  /** Responses by HTTP status in the kept run (connection failures are counted in `errors` only). */
  statusCounts: Record<number, number>;
  /** Throughput of every run, in order; the best is reported. */
  runsPerSecond: number[];
  /** CPU used by all server processes during the best run, in % of one core. */
  serverCpuPercent: number;
  /** Server CPU time per completed request during the best run, in µs (steadier than req/s on a busy machine). */
  serverCpuMicrosPerRequest: number;
  /** Busy share of the whole machine during the best run, in %. */
  machineBusyPercent: number;
}

/** How to measure. */
export interface SuiteOptions {
  durationMs: number;
  warmupMs: number;
  runs: number;
  valueBytes: number;
  cases: { workload: Workload; clients: number }[];
  /** Keep writing (64 clients) until this many keys exist, then read the leader's RSS; 0 skips. */
  bulkWrites: number;
  bulkTimeoutMs: number;
  /** Idle time after the bulk writes before the second, settled RSS reading. */
  bulkSettleMs: number;
  log: (line: string) => void;
  /** Headers sent with every request (the --auth case's Basic credentials). */
  headers?: Record<string, string>;
}

/** Everything measured on one target. */
export interface SuiteResult {
  leader: string;
  cases: CaseResult[];
  /** Leader RSS right after the measured write cases. */
  rssAfterWritesBytes?: number;
  /**
   * Keys written in all, and the leader RSS right after the bulk phase and again after it idled for
   * `bulkSettleMs` (a garbage-collected runtime's RSS at one instant depends on where its collector
   * happens to be; the settled reading is what the member keeps holding).
   */
  bulk?: { keys: number; elapsedMs: number; leaderRssBytes?: number; leaderRssSettledBytes?: number };
}

/** Request budget of one measured run (the duration is what ends it). */
export const MAX_REQUESTS_PER_RUN = 5_000_000;

/** Runs the suite against a started target. */
export async function runKeysSuite(target: BenchTarget, opts: SuiteOptions): Promise<SuiteResult> {
  const leader = await findLeader(target);
  const { makers, written: writtenNow } = workloadRequests(target, opts.valueBytes, opts.headers);
  const result: SuiteResult = { leader: leader.name, cases: [] };
  let writesDone = false;
  for (const c of opts.cases) {
    if (c.workload !== 'write' && !writesDone) {
      result.rssAfterWritesBytes = rssBytes(leader.pid);
      writesDone = true;
      if (writtenNow() === 0) await seedKeys(target, leader, makers.write, opts);
    }
    const measured = await measureCase(target, leader, makers[c.workload], c.clients, opts);
    result.cases.push({ workload: c.workload, ...measured });
    opts.log(`  ${target.kind} ${c.workload} x${c.clients}: ${Math.round(measured.requestsPerSecond)} req/s `
      + `(runs ${measured.runsPerSecond.map(Math.round).join(', ')}), p50 ${measured.p50Ms.toFixed(2)} ms, p99 ${measured.p99Ms.toFixed(2)} ms, `
      + `server ${Math.round(measured.serverCpuMicrosPerRequest)} µs CPU/req`
      + `${measured.errors ? `, ${measured.errors} errors: ${measured.firstError}` : ''}`);
  }
  if (!writesDone) result.rssAfterWritesBytes = rssBytes(leader.pid);
  if (opts.bulkWrites > writtenNow()) result.bulk = await bulkWrite(target, leader, makers.write, writtenNow, opts);
  return result;
}

/**
 * The requests of each workload against one target: writes PUT distinct keys `/bench/k<n>` with a
 * `valueBytes` value; reads GET the keys written so far, spread with a stride (coprime with most
 * counts) rather than hammering one key. `written` counts the writes made.
 */
export function workloadRequests(target: BenchTarget, valueBytes: number, headers: Record<string, string> = {}): { makers: Record<Workload, (seq: number) => LoadRequest>; written: () => number } {
  const value = Buffer.from(`value=${'v'.repeat(valueBytes)}`);
  const formHeaders = { 'Content-Type': 'application/x-www-form-urlencoded', ...headers };
  let written = 0;
  const readOf = (seq: number, query: string): LoadRequest => ({
    method: 'GET',
    path: `/v2/keys/bench/k${(seq * 7919) % Math.max(1, written)}${query ? `?${query}` : ''}`,
    headers,
  });
  const makers: Record<Workload, (seq: number) => LoadRequest> = {
    write: () => ({ method: 'PUT', path: `/v2/keys/bench/k${written++}`, body: value, headers: formHeaders }),
    'read-linearizable': (seq) => readOf(seq, target.readQuery.linearizable),
    'read-serializable': (seq) => readOf(seq, target.readQuery.serializable),
  };
  return { makers, written: () => written };
}

export async function seedKeys(target: BenchTarget, leader: BenchMember, write: (seq: number) => LoadRequest, opts: Pick<SuiteOptions, 'log'>): Promise<void> {
  await runLoad({ url: leader.clientUrl, tls: target.tls, concurrency: 16, durationMs: 30_000, maxRequests: 1000, makeRequest: write });
  opts.log('  (seeded 1000 keys for the reads)');
}

async function measureCase(
  target: BenchTarget,
  leader: BenchMember,
  makeRequest: (seq: number) => LoadRequest,
  clients: number,
  opts: SuiteOptions,
): Promise<Omit<CaseResult, 'workload'>> {
  const load = (durationMs: number) => runLoad({ url: leader.clientUrl, tls: target.tls, concurrency: clients, durationMs, maxRequests: MAX_REQUESTS_PER_RUN, makeRequest });
  if (opts.warmupMs > 0) await load(opts.warmupMs);
  let best: { run: LoadResult; cpu: number; cpuPerRequest: number; busy: number } | undefined;
  const runsPerSecond: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const pids = target.members.map((m) => m.pid);
    const cpu0 = totalCpuSeconds(pids);
    const j0 = machineJiffies();
    const run = await load(opts.durationMs);
    const cpu = totalCpuSeconds(pids) - cpu0;
    const j1 = machineJiffies();
    runsPerSecond.push(run.requestsPerSecond);
    const busy = (100 * (j1.busy - j0.busy)) / Math.max(1, j1.total - j0.total);
    if (!best || run.requestsPerSecond > best.run.requestsPerSecond) {
      best = { run, cpu: (100 * cpu * 1000) / run.elapsedMs, cpuPerRequest: (cpu * 1e6) / Math.max(1, run.ok + run.errors), busy };
    }
  }
  const { run, cpu, cpuPerRequest, busy } = best!;
  return {
    clients,
    requestsPerSecond: run.requestsPerSecond,
    p50Ms: run.latency.percentileMs(50),
    p99Ms: run.latency.percentileMs(99),
    meanMs: run.latency.meanMs,
    ok: run.ok,
    errors: run.errors,
    firstError: run.firstError,
    statusCounts: run.statusCounts,
    runsPerSecond,
    serverCpuPercent: cpu,
    serverCpuMicrosPerRequest: cpuPerRequest,
    machineBusyPercent: busy,
  };
}

async function bulkWrite(
  target: BenchTarget,
  leader: BenchMember,
  write: (seq: number) => LoadRequest,
  written: () => number,
  opts: SuiteOptions,
): Promise<SuiteResult['bulk']> {
  const missing = opts.bulkWrites - written();
  opts.log(`  writing ${missing} more keys (64 clients, at most ${opts.bulkTimeoutMs / 1000} s) for the leader RSS ...`);
  const run = await runLoad({ url: leader.clientUrl, tls: target.tls, concurrency: 64, durationMs: opts.bulkTimeoutMs, maxRequests: missing, makeRequest: write });
  const leaderRssBytes = rssBytes(leader.pid);
  await new Promise((resolve) => setTimeout(resolve, opts.bulkSettleMs));
  const leaderRssSettledBytes = rssBytes(leader.pid);
  opts.log(`  ${written()} keys written; leader RSS ${mib(leaderRssBytes)}, ${mib(leaderRssSettledBytes)} after ${opts.bulkSettleMs / 1000} s idle`);
  return { keys: written(), elapsedMs: run.elapsedMs, leaderRssBytes, leaderRssSettledBytes };
}
