/**
 * The keys workloads against one target: distinct-key writes, then linearizable and serializable GETs
 * of the written keys, each at the configured client counts, warmed up and measured `runs` times keeping
 * the best; the servers' CPU and the machine's busy share are recorded alongside each measurement.
 */
import { findLeader, type BenchMember, type BenchTarget } from './bench-target.js';
import type { LoadRequest, LoadResult } from './load-generator.js';
import { runLoadSpread } from './load-threads.js';
import { machineJiffies, rssBytes, treeCpuSeconds, treeUsage, type TreeUsage } from './process-stats.js';
import { makerOf, newCounters, writtenOf, type LoadPlan } from './request-plan.js';
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
  /**
   * CPU of each member (its whole process tree) during the best run, in % of one core, in member
   * order; `childrenPercent` is the part used by the member's descendants (client workers).
   */
  memberCpu: MemberCpu[];
}

/** One member's CPU during a run. */
export interface MemberCpu {
  name: string;
  percent: number;
  childrenPercent: number;
}

/** One member's processes and memory after the run. */
export interface MemberMemory {
  name: string;
  usage?: TreeUsage;
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
  /** Worker threads of the load generator (1: the bench's own thread). */
  loadThreads?: number;
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
  /** Every member's process tree (RSS, PSS, processes) at the end of the suite. */
  members?: MemberMemory[];
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
  result.members = target.members.map((m) => ({ name: m.name, usage: treeUsage(m.pid) }));
  return result;
}

/** A request maker that also carries its plan, so that load threads can make the same requests. */
export type RequestMaker = ((seq: number) => LoadRequest) & { plan: LoadPlan };

/**
 * The requests of each workload against one target: writes PUT distinct keys `/bench/k<n>` with a
 * `valueBytes` value; reads GET the keys written so far, spread with a stride (coprime with most
 * counts) rather than hammering one key. `written` counts the writes made (by every load thread).
 */
export function workloadRequests(target: BenchTarget, valueBytes: number, headers?: Record<string, string>): { makers: Record<Workload, RequestMaker>; written: () => number } {
  const counters = newCounters();
  const maker = (plan: LoadPlan): RequestMaker => Object.assign(makerOf({ ...plan, headers }), { plan: { ...plan, headers } });
  const makers: Record<Workload, RequestMaker> = {
    write: maker({ spec: { kind: 'write', valueBytes }, counters }),
    'read-linearizable': maker({ spec: { kind: 'read', query: target.readQuery.linearizable }, counters }),
    'read-serializable': maker({ spec: { kind: 'read', query: target.readQuery.serializable }, counters }),
  };
  return { makers, written: () => writtenOf(counters) };
}

/** Writes 1000 keys so that reads have something to read when no write case ran first. */
export async function seedKeys(target: BenchTarget, leader: BenchMember, write: (seq: number) => LoadRequest, opts: Pick<SuiteOptions, 'log'>): Promise<void> {
  await runLoadSpread({ url: leader.clientUrl, tls: target.tls, concurrency: 16, durationMs: 30_000, maxRequests: 1000, makeRequest: write });
  opts.log('  (seeded 1000 keys for the reads)');
}

/** CPU seconds of each member so far: the whole tree, and the launched process alone. */
export function memberCpuSeconds(target: BenchTarget): { tree: number; main: number }[] {
  return target.members.map((m) => {
    const main = treeUsage(m.pid)?.main.cpuSeconds ?? 0;
    return { tree: Math.max(main, treeCpuSeconds(m.pid)), main };
  });
}

/** Each member's CPU between two {@link memberCpuSeconds} readings, in % of one core over `elapsedMs`. */
export function memberCpuBetween(target: BenchTarget, before: { tree: number; main: number }[], after: { tree: number; main: number }[], elapsedMs: number): MemberCpu[] {
  return target.members.map((m, i) => {
    const tree = after[i]!.tree - before[i]!.tree;
    const main = after[i]!.main - before[i]!.main;
    return { name: m.name, percent: (100 * tree * 1000) / elapsedMs, childrenPercent: (100 * Math.max(0, tree - main) * 1000) / elapsedMs };
  });
}

async function measureCase(
  target: BenchTarget,
  leader: BenchMember,
  makeRequest: RequestMaker,
  clients: number,
  opts: SuiteOptions,
): Promise<Omit<CaseResult, 'workload'>> {
  const load = (durationMs: number) => runLoadSpread({
    url: leader.clientUrl, tls: target.tls, concurrency: clients, durationMs, maxRequests: MAX_REQUESTS_PER_RUN, makeRequest,
    plan: makeRequest.plan, threads: opts.loadThreads,
  });
  if (opts.warmupMs > 0) await load(opts.warmupMs);
  let best: { run: LoadResult; cpu: number; cpuPerRequest: number; busy: number; memberCpu: MemberCpu[] } | undefined;
  const runsPerSecond: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const cpu0 = memberCpuSeconds(target);
    const j0 = machineJiffies();
    const run = await load(opts.durationMs);
    const cpu1 = memberCpuSeconds(target);
    const cpu = cpu1.reduce((s, c, k) => s + c.tree - cpu0[k]!.tree, 0);
    const j1 = machineJiffies();
    runsPerSecond.push(run.requestsPerSecond);
    const busy = (100 * (j1.busy - j0.busy)) / Math.max(1, j1.total - j0.total);
    if (!best || run.requestsPerSecond > best.run.requestsPerSecond) {
      best = {
        run, cpu: (100 * cpu * 1000) / run.elapsedMs, cpuPerRequest: (cpu * 1e6) / Math.max(1, run.ok + run.errors), busy,
        memberCpu: memberCpuBetween(target, cpu0, cpu1, run.elapsedMs),
      };
    }
  }
  const { run, cpu, cpuPerRequest, busy, memberCpu } = best!;
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
    memberCpu,
  };
}

async function bulkWrite(
  target: BenchTarget,
  leader: BenchMember,
  write: RequestMaker,
  written: () => number,
  opts: SuiteOptions,
): Promise<SuiteResult['bulk']> {
  const missing = opts.bulkWrites - written();
  opts.log(`  writing ${missing} more keys (64 clients, at most ${opts.bulkTimeoutMs / 1000} s) for the leader RSS ...`);
  const run = await runLoadSpread({
    url: leader.clientUrl, tls: target.tls, concurrency: 64, durationMs: opts.bulkTimeoutMs, maxRequests: missing, makeRequest: write, plan: write.plan, threads: opts.loadThreads,
  });
  const leaderRssBytes = rssBytes(leader.pid);
  await new Promise((resolve) => setTimeout(resolve, opts.bulkSettleMs));
  const leaderRssSettledBytes = rssBytes(leader.pid);
  opts.log(`  ${written()} keys written; leader RSS ${mib(leaderRssBytes)}, ${mib(leaderRssSettledBytes)} after ${opts.bulkSettleMs / 1000} s idle`);
  return { keys: written(), elapsedMs: run.elapsedMs, leaderRssBytes, leaderRssSettledBytes };
}
