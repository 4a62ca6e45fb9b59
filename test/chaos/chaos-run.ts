/**
 * One chaos run: start a cluster, run the workload clients and watchers while the nemesis injects
 * faults, heal, wait for convergence, and check the history (linearizability per key), the watch
 * streams, the final values (no lost writes) and the members' keyspace hashes. A failing run saves
 * its history and the members' logs and says how to replay the check.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SimRng } from '../sim/rng.js';
import { checkLinearizability, checkNoLostWrites, checkWatchStream, formatLinearizabilityResult, saveHistory } from './checker/index.js';
import { ChaosCluster } from './chaos-cluster.js';
import { smallDiskUnavailable } from '../support/small-disk.js';
import { committedEvents, drainWatcher, healAll, readFinalState, waitConvergence, writeSentinel } from './final-checks.js';
import { HistoryRecorder } from './history.js';
import { FAULT_MIXES, Nemesis, WORKER_FAULT_KINDS, type FaultKind } from './nemesis.js';
import { ValueHints, WorkloadClient } from './workload-client.js';
import { WatcherClient } from './watcher-client.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  seed: number;
  durationSeconds: number;
  nodes: number;
  /** A key of {@link FAULT_MIXES}. */
  faults: string;
  /** Start the members in the deliberately broken mode (stale local reads). */
  broken: boolean;
  /** Faults to inject first, before the seeded random schedule. */
  firstFaults?: readonly FaultKind[];
  clients: number;
  keys: number;
  /** Idle connections of a conn-flood fault (default {@link FLOOD_CONNECTIONS}). */
  floodConnections?: number;
  /**
   * Client worker processes per member (`DEIMOS_CLIENT_WORKERS` in each member's environment);
   * 0 (the default) runs single-process members and leaves the worker faults out.
   */
  clientWorkers?: number;
  /** Where failing runs are saved (default `.chaos-runs` under the current directory). */
  saveRoot?: string;
  log?: (line: string) => void;
}

/** What a run found. */
export interface ChaosReport {
  ok: boolean;
  /** Client worker processes per member in this run (0: single-process members). */
  clientWorkers: number;
  anomalies: string[];
  linearizability: string;
  operations: number;
  tally: Record<string, number>;
  faults: string[];
  faultSeconds: number;
  notes: string[];
  savedTo?: string;
}

const DIR = '/chaos';
const SNAPSHOT_COUNT = 300;
/** Each member's own tmpfs when the disk-full fault may run: room for its data, filled by the fault. */
const DISK_BYTES = 64 * 1024 * 1024;
/** Idle connections a conn-flood fault holds against a member, by default. */
export const FLOOD_CONNECTIONS = 3_000;
/**
 * Members' open-files limit: 512 gives each a derived client connection limit of 224 (see the
 * server's connection-limits.ts), far below a flood, and leaves room for its own files.
 */
const MEMBER_FD_LIMIT = 512;

/** Runs one chaos run; see the module comment. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = Date.now();
  const log = options.log ?? (() => {});
  let kinds = FAULT_MIXES[options.faults];
  if (!kinds) throw new Error(`unknown fault mix ${options.faults} (one of ${Object.keys(FAULT_MIXES).join(', ')})`);
  const clientWorkers = options.clientWorkers ?? 0;
  if (clientWorkers === 0) {
    // Filtered, not drawn and skipped: single-process runs keep the schedules their seeds always had.
    kinds = kinds.filter((k) => !WORKER_FAULT_KINDS.includes(k));
    if (kinds.length === 0) throw new Error(`fault mix ${options.faults} needs client workers (--client-workers N)`);
    if (options.firstFaults?.some((k) => WORKER_FAULT_KINDS.includes(k))) throw new Error(`first faults ${options.firstFaults.join(',')} need client workers`);
  }
  const noSmallDisk = kinds.includes('disk-full') ? smallDiskUnavailable() : undefined;
  if (noSmallDisk !== undefined) {
    log(`disk-full faults left out: ${noSmallDisk}`);
    kinds = kinds.filter((k) => k !== 'disk-full');
    if (kinds.length === 0) throw new Error(`fault mix ${options.faults} needs small disks: ${noSmallDisk}`);
  }
  const rng = new SimRng(options.seed);
  const workDir = mkdtempSync(join(tmpdir(), `deimos-chaos-${options.seed}-`));
  const recorder = new HistoryRecorder();
  const stamp = (line: string) => log(`[${(recorder.nowMs() / 1000).toFixed(1)}s] ${line}`);
  const requestTimeoutMs = 1_500;
  const cluster = await ChaosCluster.start({
    size: options.nodes, workDir, snapshotCount: SNAPSHOT_COUNT, tickMs: 50, electionTicks: 10, requestTimeoutMs, memberFdLimit: MEMBER_FD_LIMIT,
    // Always set, so that a DEIMOS_CLIENT_WORKERS of the harness's own environment never decides the mode.
    env: { DEIMOS_CLIENT_WORKERS: String(clientWorkers), ...(options.broken ? { DEIMOS_TEST_UNSAFE_LOCAL_READS: '1' } : {}) },
    ...(kinds.includes('disk-full') ? { diskBytes: DISK_BYTES } : {}),
  });
  const anomalies: string[] = [];
  let watchData: unknown;
  const notes: string[] = [];
  let nemesis: Nemesis | undefined;
  let history = recorder.history();
  let linearizability = '';
  let watchers: WatcherClient[] = [];
  let clients: WorkloadClient[] = [];
  let workloadDone = false;
  try {
    stamp(`cluster of ${options.nodes} up in ${workDir}; seed ${options.seed}, faults ${options.faults}, ${clientWorkers === 0 ? 'single-process members' : `${clientWorkers} client workers per member`}${options.broken ? ', BROKEN MODE' : ''}`);
    const targets = () => cluster.members.map((m) => m.clientUrl);
    const keys = Array.from({ length: options.keys }, (_, i) => `${DIR}/k${i}`);
    const fromIndex = (await cluster.hash(cluster.names[0]!)).storeIndex + 1;
    const hints = new ValueHints();
    clients = Array.from({ length: options.clients }, (_, i) => new WorkloadClient({
      id: i, keys, targets, rng: rng.fork(), recorder, hints, requestTimeoutMs: requestTimeoutMs + 1_000, thinkMs: 15,
    }));
    watchers = (['long-poll', 'stream'] as const).map((mode, i) => new WatcherClient({
      id: `w${i}-${mode}`, dir: DIR, fromIndex, mode, targets, rng: rng.fork(), idleTimeoutMs: 3_000,
      // The streaming watcher also leaves and comes back, to resume with a backlog (a few hundred events).
      selfCut: mode === 'stream' ? { cutEveryMs: [2_000, 6_000], awayMs: [1_000, 6_000] } : undefined,
    }));
    nemesis = new Nemesis({
      cluster, rng: rng.fork(), kinds, nowMs: () => recorder.nowMs(), snapshotCount: SNAPSHOT_COUNT, log: stamp,
      holdMs: [1_500, 5_000], quietMs: [1_000, 3_000], firstKinds: options.firstFaults, floodConnections: options.floodConnections ?? FLOOD_CONNECTIONS,
      clientWorkers,
    });
    let stopped = false;
    const watching = watchers.map((w) => w.run());
    const working = clients.map((c) => c.run(() => stopped));
    const faulting = nemesis.run();
    await new Promise((r) => setTimeout(r, options.durationSeconds * 1_000));
    stamp('workload ends; healing');
    stopped = true;
    nemesis.stop();
    await Promise.all([faulting, ...working]);
    history = recorder.history();
    workloadDone = true;
    await healAll(cluster, stamp);
    await cluster.learnIds();

    const base = cluster.members[0]!.clientUrl;
    const sentinel = await writeSentinel(cluster.members.map((m) => m.clientUrl), DIR, (line) => { notes.push(line); stamp(line); });
    stamp(`healed; sentinel at index ${sentinel}`);
    for (const [i, w] of watchers.entries()) {
      if (!(await drainWatcher(w, sentinel, 30_000))) anomalies.push(`watcher w${i} stopped at index ${w.lastIndex}, never reached the sentinel ${sentinel}`);
      w.stop();
    }
    await Promise.all(watching);
    stamp('watchers drained');
    const committed = await committedEvents(base, DIR, fromIndex, sentinel, rng.fork());
    watchData = { fromIndex, sentinel, committed, watchers: watchers.map((w) => w.segments) };
    for (const [i, w] of watchers.entries()) {
      notes.push(...w.notes);
      for (const [s, segment] of w.segments.entries()) {
        const last = s === w.segments.length - 1;
        const result = checkWatchStream(segment.events, { fromIndex: segment.fromIndex, committed, expectThroughIndex: last ? sentinel : undefined });
        for (const p of result.problems.slice(0, 5)) anomalies.push(`watch w${i} segment ${s}: ${p}`);
        if (result.problems.length > 5) anomalies.push(`watch w${i} segment ${s}: ... and ${result.problems.length - 5} more problems`);
      }
      notes.push(`watcher w${i}: ${w.segments.reduce((n, s) => n + s.events.length, 0)} events, ${w.reconnects} reconnects, ${w.refused} refused at the connection limit`);
    }

    stamp('watch streams checked');
    const hashes = await waitConvergence(cluster, 30_000);
    stamp('convergence checked');
    const distinct = new Set([...hashes.values()].map((h) => `${h.hash}@${h.storeIndex}`));
    if (distinct.size !== 1) anomalies.push(`members did not converge: ${[...hashes].map(([n, h]) => `${n}=${h.hash} store ${h.storeIndex} applied ${h.appliedIndex}`).join(', ')}`);
    const finalState = await readFinalState(base, keys);
    const lost = checkNoLostWrites(history, finalState);
    for (const p of lost.problems) anomalies.push(`lost write: ${p.message}`);
  } catch (err) {
    anomalies.push(`run aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    for (const w of watchers) w.stop();
    await cluster.destroy();
  }
  notes.push(...snapshotTraffic(cluster));
  // The history is complete once the workload ended, whatever happened after (and the check
  // runs with the cluster gone: it blocks this process, which also runs the proxies).
  if (workloadDone) {
    stamp(`checking ${history.length} operations`);
    const lin = checkLinearizability(history);
    linearizability = formatLinearizabilityResult(lin);
    if (lin.verdict === 'violation') anomalies.push(`history is not linearizable:\n${linearizability}`);
    else if (lin.verdict === 'unknown') anomalies.push(`linearizability undecided (search budget):\n${linearizability}`);
  }
  for (const c of clients) notes.push(...c.stats.unexpected.slice(0, 5).map((u) => `unexpected response: ${u}`));
  const report: ChaosReport = {
    ok: anomalies.length === 0,
    clientWorkers,
    anomalies,
    linearizability,
    operations: history.length,
    tally: recorder.tally(),
    faults: (nemesis?.faults ?? []).map((f) => `${(f.startMs / 1000).toFixed(1)}s ${f.kind} ${f.detail} ${Math.round(f.endMs - f.startMs)}ms${f.error ? ` ERROR ${f.error}` : ''}`),
    faultSeconds: (nemesis?.faultMs() ?? 0) / 1000,
    notes,
  };
  if (!report.ok) report.savedTo = saveRun(options, report, history, watchData, cluster, startedAt);
  rmSync(workDir, { recursive: true, force: true });
  return report;
}

/** Snapshots each member sent and received, and its NOSPACE alarms, from its log (proof that the faults bit). */
function snapshotTraffic(cluster: ChaosCluster): string[] {
  return cluster.members.map((m) => {
    let text = '';
    try {
      text = readFileSync(m.logPath, 'utf8');
    } catch {
      // no log
    }
    const count = (what: string) => text.split('\n').filter((l) => l.includes(what)).length;
    return `${m.name}: snapshots taken ${count('snapshot taken')}, sent ${count('sent snapshot')}, received ${count('received snapshot')}, NOSPACE alarms raised ${count('NOSPACE alarm raised')}`;
  });
}

function saveRun(options: ChaosOptions, report: ChaosReport, history: ReturnType<HistoryRecorder['history']>, watchData: unknown, cluster: ChaosCluster, startedAt: number): string {
  const root = resolve(options.saveRoot ?? '.chaos-runs');
  mkdirSync(root, { recursive: true });
  // The directory ignores itself, so saved runs never end up in a commit.
  writeFileSync(join(root, '.gitignore'), '*\n');
  const dir = join(root, `${options.seed}-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'history.jsonl'), saveHistory(history));
  if (watchData !== undefined) writeFileSync(join(dir, 'watches.json'), JSON.stringify(watchData));
  writeFileSync(join(dir, 'report.json'), JSON.stringify({ options: { ...options, log: undefined }, ...report }, null, 2));
  for (const m of cluster.members) cpSync(m.logPath, join(dir, `${m.name}.log`), { force: true });
  return dir;
}
