/**
 * `npm run bench -- --paired N`: deimos and etcd run side by side and every case is measured in
 * alternation, N rounds of one deimos run and one etcd run (the order flips each round), so that the
 * drift of a shared machine falls on both alike. Each round gives one deimos/etcd ratio; the report
 * shows their median and range next to each server's median throughput and CPU per request. The
 * sequential mode measures all of one server, then all of the other, minutes apart.
 */
import { writeFileSync } from 'node:fs';
import { findLeader, startTarget, type BenchMember, type BenchTarget, type ServerKind } from './bench-target.js';
import {
  MAX_REQUESTS_PER_RUN, memberCpuBetween, memberCpuSeconds, seedKeys, workloadRequests, type MemberCpu, type MemberMemory, type RequestMaker, type Workload,
} from './keys-suite.js';
import { runLoadSpread } from './load-threads.js';
import { machineInfo, treeUsage } from './process-stats.js';
import { fmt, memberCpuTable, memberMemoryTable, placementText, type Placement } from './report.js';

/** How to measure. */
export interface PairedOptions {
  nodes: number;
  durationS: number;
  warmupS: number;
  /** Rounds per case (one run of each server per round). */
  pairs: number;
  valueBytes: number;
  cases: { workload: Workload; clients: number }[];
  etcdBinary: string;
  /** Where members and the load generator run (the same member lists for both servers: only one is under load at a time). */
  placement?: Placement;
  /** Client workers of each deimos member (DEIMOS_CLIENT_WORKERS). */
  clientWorkers?: number;
  /** Load generator threads. */
  loadThreads?: number;
  json?: string;
  log: (line: string) => void;
}

/** One run of one server. */
interface PairedRun {
  requestsPerSecond: number;
  cpuMicrosPerRequest: number;
  errors: number;
  /** Each member's CPU during the run. */
  memberCpu?: MemberCpu[];
}

/** One case, every round of both servers. */
export interface PairedCase {
  workload: Workload;
  clients: number;
  deimos: PairedRun[];
  etcd: PairedRun[];
}

/** A server under load: its processes, leader and request makers. */
interface Side {
  kind: ServerKind;
  target: BenchTarget;
  leader: BenchMember;
  makers: Record<Workload, RequestMaker>;
  written: () => number;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** deimos/etcd throughput of each round (NaN where etcd completed nothing). */
export function roundRatios(c: PairedCase): number[] {
  return c.deimos.map((d, i) => {
    const e = c.etcd[i]!.requestsPerSecond;
    return e > 0 ? d.requestsPerSecond / e : Number.NaN;
  });
}

/** Which server goes first in round `round`: deimos on even rounds, etcd on odd ones. */
export function roundOrder<T>(round: number, deimos: T, etcd: T): [T, T] {
  return round % 2 === 0 ? [deimos, etcd] : [etcd, deimos];
}

async function measureRun(side: Side, workload: Workload, clients: number, durationMs: number, loadThreads: number | undefined): Promise<PairedRun> {
  const cpu0 = memberCpuSeconds(side.target);
  const makeRequest = side.makers[workload];
  const run = await runLoadSpread({
    url: side.leader.clientUrl, concurrency: clients, durationMs, maxRequests: MAX_REQUESTS_PER_RUN, makeRequest, plan: makeRequest.plan, threads: loadThreads,
  });
  const cpu1 = memberCpuSeconds(side.target);
  const cpu = cpu1.reduce((s, c, i) => s + c.tree - cpu0[i]!.tree, 0);
  return {
    requestsPerSecond: run.requestsPerSecond, cpuMicrosPerRequest: (cpu * 1e6) / Math.max(1, run.ok + run.errors), errors: run.errors,
    memberCpu: memberCpuBetween(side.target, cpu0, cpu1, run.elapsedMs),
  };
}

async function startSide(kind: ServerKind, opts: PairedOptions): Promise<Side> {
  opts.log(`starting ${opts.nodes} ${kind} node(s) ...`);
  const target = await startTarget(kind, { nodes: opts.nodes, etcdBinary: opts.etcdBinary, cpuLists: opts.placement?.memberCpus, clientWorkers: opts.clientWorkers });
  try {
    const leader = await findLeader(target);
    return { kind, target, leader, ...workloadRequests(target, opts.valueBytes) };
  } catch (err) {
    await target.destroy();
    throw err;
  }
}

async function measureCase(sides: { deimos: Side; etcd: Side }, c: { workload: Workload; clients: number }, opts: PairedOptions): Promise<PairedCase> {
  const result: PairedCase = { ...c, deimos: [], etcd: [] };
  for (const side of [sides.deimos, sides.etcd]) {
    if (opts.warmupS > 0) await measureRun(side, c.workload, c.clients, opts.warmupS * 1000, opts.loadThreads);
  }
  for (let round = 0; round < opts.pairs; round++) {
    for (const side of roundOrder(round, sides.deimos, sides.etcd)) {
      result[side.kind].push(await measureRun(side, c.workload, c.clients, opts.durationS * 1000, opts.loadThreads));
    }
  }
  return result;
}

/** The Markdown table of a paired run. */
export function renderPaired(cases: readonly PairedCase[], opts: Pick<PairedOptions, 'nodes' | 'pairs' | 'durationS' | 'warmupS' | 'valueBytes'>): string {
  const lines = [
    `## deimos vs etcd, paired runs, ${opts.nodes} node${opts.nodes > 1 ? 's' : ''}`,
    '',
    `Both servers run side by side; each case is ${opts.pairs} rounds of one ${opts.durationS} s run of each (order flipped every round), `
      + `after a ${opts.warmupS} s warm-up of each. Writes PUT ${opts.valueBytes}-byte values to distinct keys; reads GET written keys. `
      + 'Ratio = deimos/etcd req/s of the same round; µs/req = server CPU time per request (all member processes).',
    '',
    '| workload | clients | deimos req/s (median) | etcd req/s (median) | deimos/etcd median | range | deimos µs/req | etcd µs/req | errors |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of cases) {
    const rps = (runs: PairedRun[]) => median(runs.map((r) => r.requestsPerSecond));
    const cpu = (runs: PairedRun[]) => median(runs.map((r) => r.cpuMicrosPerRequest));
    const finite = roundRatios(c).filter(Number.isFinite);
    const range = finite.length > 0 ? `${fmt(Math.min(...finite), 2)}–${fmt(Math.max(...finite), 2)}` : '—';
    const errors = [...c.deimos, ...c.etcd].reduce((s, r) => s + r.errors, 0);
    lines.push(`| ${c.workload} | ${c.clients} | ${fmt(rps(c.deimos))} | ${fmt(rps(c.etcd))} | ${finite.length > 0 ? fmt(median(finite), 2) : '—'} | ${range} `
      + `| ${fmt(cpu(c.deimos))} | ${fmt(cpu(c.etcd))} | ${errors} |`);
  }
  return lines.join('\n');
}

/** Runs the paired bench; returns the exit code. */
export async function runPairedBench(opts: PairedOptions): Promise<number> {
  const startedAt = new Date().toISOString();
  const before = machineInfo();
  const started: Side[] = [];
  const cases: PairedCase[] = [];
  const memory: Record<ServerKind, MemberMemory[]> = { deimos: [], etcd: [] };
  try {
    const deimos = await startSide('deimos', opts);
    started.push(deimos);
    const etcd = await startSide('etcd', opts);
    started.push(etcd);
    for (const c of opts.cases) {
      if (c.workload !== 'write') {
        for (const side of started) if (side.written() === 0) await seedKeys(side.target, side.leader, side.makers.write, { log: opts.log });
      }
      const measured = await measureCase({ deimos, etcd }, c, opts);
      cases.push(measured);
      opts.log(`  ${c.workload} x${c.clients}: deimos/etcd ${roundRatios(measured).map((r) => fmt(r, 2)).join(', ')} `
        + `(deimos ${measured.deimos.map((r) => fmt(r.requestsPerSecond)).join(', ')}; etcd ${measured.etcd.map((r) => fmt(r.requestsPerSecond)).join(', ')} req/s)`);
    }
  } catch (err) {
    opts.log(`paired bench failed: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}`);
    return 1;
  } finally {
    for (const side of started) {
      memory[side.kind] = side.target.members.map((m) => ({ name: m.name, usage: treeUsage(m.pid) }));
      await side.target.destroy();
    }
  }
  const after = machineInfo();
  process.stdout.write(`${renderPaired(cases, opts)}\n\nLoad average (1 min) before ${before.loadAverage[0].toFixed(2)}, after ${after.loadAverage[0].toFixed(2)}, on ${before.cpuCount} cores.\n`);
  process.stdout.write(`${placementText(opts.placement, before.cpuCount)}${opts.loadThreads && opts.loadThreads > 1 ? ` Load threads: ${opts.loadThreads}.` : ''}`
    + `${opts.clientWorkers === undefined ? '' : ` deimos members get DEIMOS_CLIENT_WORKERS=${opts.clientWorkers}.`}\n`);
  {
    const perMember = (runs: PairedRun[]): MemberCpu[] => (runs[0]?.memberCpu ?? []).map((m, i) => ({
      ...m, percent: median(runs.map((r) => r.memberCpu?.[i]?.percent ?? 0)), childrenPercent: median(runs.map((r) => r.memberCpu?.[i]?.childrenPercent ?? 0)),
    }));
    const rows = cases.map((c) => ({ workload: c.workload, clients: c.clients, deimos: perMember(c.deimos), etcd: perMember(c.etcd) }));
    process.stdout.write(`\n${memberCpuTable(rows, 'median of the rounds').join('\n')}\n\n${memberMemoryTable(memory).join('\n')}\n`);
  }
  if (opts.json) {
    const { log: _log, etcdBinary: _bin, ...settings } = opts;
    const withRatios = cases.map((c) => ({ ...c, ratios: roundRatios(c) }));
    writeFileSync(opts.json, `${JSON.stringify({ startedAt, machine: { before, after }, settings, cases: withRatios, memory }, null, 2)}\n`);
    opts.log(`JSON summary written to ${opts.json}`);
  }
  return 0;
}
