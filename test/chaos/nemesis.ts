/**
 * The nemesis: injects one fault at a time on a schedule drawn from a seeded generator, holds it,
 * heals it, and lets the cluster breathe before the next. Faults: kill -9 and restart, SIGSTOP and
 * SIGCONT (leader or follower), partitions (majority/minority, leader isolated), one-way link
 * loss, slow links, slow disk (restart with the WAL's fsync delay), membership (remove a member,
 * then add it back on an empty data directory), snapshot-forcing isolation (a follower kept
 * away while more than --snapshot-count entries are written, so it must catch up by snapshot),
 * a full disk (a filler file takes every free page of the member's own tmpfs, then goes), and a
 * flood of thousands of idle connections held against one member (see connection-flood.ts).
 * With client workers on (`--client-workers N`), also kill -9 of one of a member's worker
 * processes (the member must start it again and stay up) and SIGSTOP/SIGCONT of one.
 */
import { http } from '../support/http.js';
import type { SimRng } from '../sim/rng.js';
import type { ChaosCluster } from './chaos-cluster.js';
import { ConnectionFlood, floodSize } from './connection-flood.js';

/** Entries the server's compactor keeps behind a snapshot (packages/server/src/member/compactor.ts). */
const CATCH_UP_ENTRIES = 5_000;

/** The fault kinds the nemesis knows. */
export const FAULT_KINDS = [
  'kill', 'pause', 'partition', 'isolate-leader', 'one-way', 'slow-net', 'slow-disk', 'membership', 'snapshot-isolation',
  'disk-full', 'conn-flood', 'kill-worker', 'pause-worker',
] as const;
/** Faults that need client worker processes; left out of every mix when members run without. */
export const WORKER_FAULT_KINDS: readonly FaultKind[] = ['kill-worker', 'pause-worker'];
/** One fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Named mixes of fault kinds for the CLI and CI. */
export const FAULT_MIXES: Record<string, readonly FaultKind[]> = {
  all: FAULT_KINDS,
  process: ['kill', 'pause', 'slow-disk', 'conn-flood', 'kill-worker', 'pause-worker'],
  network: ['partition', 'isolate-leader', 'one-way', 'slow-net', 'snapshot-isolation'],
  membership: ['membership', 'kill', 'pause'],
  /** A full disk (members on their own tmpfs; needs root), with crashes and pauses around it. */
  disk: ['disk-full', 'kill', 'pause'],
  /** For the broken-server check: faults that leave a member serving reads while others write. */
  stale: ['partition', 'isolate-leader', 'pause'],
  /** Crashes and pauses of client workers and of whole members (needs --client-workers > 0). */
  workers: ['kill-worker', 'pause-worker', 'kill', 'pause'],
};

/** How long a member may take to have all of its workers serving again after one was killed. */
const WORKER_RESTART_MS = 15_000;

/** One fault as it happened, for the run report. */
export interface FaultRecord {
  kind: FaultKind;
  detail: string;
  startMs: number;
  endMs: number;
  error?: string;
}

/** Options of a {@link Nemesis}. */
export interface NemesisOptions {
  cluster: ChaosCluster;
  rng: SimRng;
  kinds: readonly FaultKind[];
  nowMs: () => number;
  snapshotCount: number;
  log: (line: string) => void;
  /** How long a fault is held, and the quiet time between faults, in ms. */
  holdMs: [number, number];
  quietMs: [number, number];
  /** Faults injected first, in this order, before the random ones (so a short run surely has them). */
  firstKinds?: readonly FaultKind[];
  /** Idle connections a conn-flood fault opens (fewer when this process has too few descriptors). */
  floodConnections: number;
  /** Client worker processes per member (0: single-process members, no worker faults). */
  clientWorkers: number;
}

/** The fault scheduler; see the module comment. */
export class Nemesis {
  readonly faults: FaultRecord[] = [];
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: NemesisOptions) {}

  /** Runs faults until {@link stop}; the last fault is healed before this resolves. */
  async run(): Promise<void> {
    const { rng } = this.opts;
    const first = [...(this.opts.firstKinds ?? [])];
    await this.sleep(rng.between(...this.opts.quietMs));
    while (!this.stopped) {
      const kind = first.shift() ?? rng.pick(this.opts.kinds);
      const record: FaultRecord = { kind, detail: '', startMs: this.opts.nowMs(), endMs: 0 };
      this.faults.push(record);
      try {
        await this.inject(kind, record);
      } catch (err) {
        record.error = (err as Error).message;
        this.opts.log(`nemesis: ${kind} failed: ${record.error}`);
      }
      record.endMs = this.opts.nowMs();
      this.opts.log(`nemesis: healed ${kind} ${record.detail} after ${Math.round(record.endMs - record.startMs)} ms`);
      await this.sleep(rng.between(...this.opts.quietMs));
    }
  }

  /** Asks the loop to end after healing the current fault (holds are cut short). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Total time faults were active, in ms. */
  faultMs(): number {
    return this.faults.reduce((sum, f) => sum + Math.max(0, f.endMs - f.startMs), 0);
  }

  private async inject(kind: FaultKind, record: FaultRecord): Promise<void> {
    const { cluster, rng } = this.opts;
    const hold = () => this.sleep(rng.between(...this.opts.holdMs));
    const leader = await cluster.leader();
    const names = cluster.names;
    const followers = names.filter((n) => n !== leader);
    const victim = rng.chance(0.5) && leader ? leader : rng.pick(followers);
    const begin = (detail: string) => {
      record.detail = detail;
      this.opts.log(`nemesis: ${kind} ${detail} (leader ${leader ?? 'unknown'})`);
      for (const m of cluster.members) m.note(`nemesis ${kind} ${detail}`);
    };
    switch (kind) {
      case 'kill': {
        begin(`${victim}${victim === leader ? ' (leader)' : ''}`);
        const orphans = await cluster.member(victim).kill();
        await hold();
        cluster.restart(victim);
        // Checked after the restart, so that the cluster is whole again whatever the verdict.
        if (orphans.length > 0) throw new Error(`worker processes ${orphans.join(', ')} of ${victim} outlived it (killed by the harness)`);
        return;
      }
      case 'kill-worker':
        return this.killWorker(victim, victim === leader, begin, hold, record);
      case 'pause-worker':
        return this.pauseWorker(victim, victim === leader, begin, hold, record);
      case 'pause': {
        begin(`${victim}${victim === leader ? ' (leader)' : ''}`);
        cluster.member(victim).pause();
        await hold();
        cluster.member(victim).resume();
        return;
      }
      case 'partition': {
        const shuffled = rng.shuffle([...names]);
        const minority = shuffled.slice(0, Math.floor((names.length - 1) / 2));
        const majority = shuffled.slice(minority.length);
        begin(`[${minority.join(',')}] | [${majority.join(',')}]`);
        cluster.links.partition([minority, majority], rng.chance(0.5) ? 'drop' : 'blackhole');
        await hold();
        cluster.links.heal();
        return;
      }
      case 'isolate-leader': {
        const target = leader ?? rng.pick(names);
        begin(`${target}`);
        cluster.links.partition([[target], names.filter((n) => n !== target)], rng.chance(0.5) ? 'drop' : 'blackhole');
        await hold();
        cluster.links.heal();
        return;
      }
      case 'one-way': {
        const others = names.filter((n) => n !== victim);
        if (rng.chance(0.5)) {
          begin(`${victim} cannot send`);
          cluster.links.blockOneWay(victim, others);
        } else {
          begin(`${victim} cannot receive`);
          for (const o of others) cluster.links.set(o, victim, { mode: 'drop' });
        }
        await hold();
        cluster.links.heal();
        return;
      }
      case 'slow-net': {
        const delayMs = rng.between(20, 150);
        begin(`${victim} links +${delayMs} ms each way`);
        for (const o of names.filter((n) => n !== victim)) {
          cluster.links.set(o, victim, { mode: 'pass', delayMs });
          cluster.links.set(victim, o, { mode: 'pass', delayMs });
        }
        await hold();
        cluster.links.heal();
        return;
      }
      case 'slow-disk': {
        const delayMs = rng.between(20, 150);
        begin(`${victim} fsync +${delayMs} ms`);
        await cluster.member(victim).kill();
        cluster.restart(victim, { DEIMOS_TEST_FSYNC_DELAY_MS: String(delayMs) });
        await hold();
        await cluster.member(victim).kill();
        cluster.restart(victim);
        return;
      }
      case 'disk-full': {
        const disk = cluster.member(victim).disk;
        if (!disk) throw new Error('disk-full needs each member on its own small disk (ChaosClusterOptions.diskBytes)');
        begin(`${victim}${victim === leader ? ' (leader)' : ''}`);
        try {
          const bytes = disk.fill();
          this.opts.log(`nemesis: filled the disk of ${victim} with ${(bytes / 1048576).toFixed(1)} MiB`);
          await hold();
        } finally {
          disk.free();
        }
        // The member must ride it out: answer writes with the NOSPACE error, never exit.
        if (!cluster.member(victim).running) throw new Error(`${victim} exited while its disk was full`);
        return;
      }
      case 'membership':
        return this.membership(rng.pick(followers), begin, hold);
      case 'snapshot-isolation':
        return this.snapshotIsolation(rng.pick(followers), begin);
      case 'conn-flood':
        return this.connectionFlood(victim, victim === leader, begin, hold, record);
    }
  }

  /** One of the target's worker processes, drawn with the run's seed, announced through `begin`. */
  private pickWorker(target: string, isLeader: boolean, begin: (d: string) => void): { member: ReturnType<NemesisOptions['cluster']['member']>; pid: number } {
    const member = this.opts.cluster.member(target);
    const pids = member.workerPids();
    if (pids.length === 0) throw new Error(`${target} has no worker processes (member running: ${member.running})`);
    const pid = this.opts.rng.pick(pids);
    begin(`${target}${isLeader ? ' (leader)' : ''} worker ${pid} (of ${pids.length})`);
    return { member, pid };
  }

  /**
   * kill -9 of one worker process: the member must stay up and start a worker again (it has all
   * of its workers, none of them the killed one, within {@link WORKER_RESTART_MS}).
   */
  private async killWorker(target: string, isLeader: boolean, begin: (d: string) => void, hold: () => Promise<void>, record: FaultRecord): Promise<void> {
    const { member, pid } = this.pickWorker(target, isLeader, begin);
    member.signalWorker(pid, 'SIGKILL');
    await hold();
    const deadline = Date.now() + WORKER_RESTART_MS;
    for (;;) {
      if (!member.running) throw new Error(`${target} exited after its worker ${pid} was killed`);
      const now = member.workerPids();
      if (now.length >= this.opts.clientWorkers && !now.includes(pid)) {
        record.detail += `: workers again ${now.join(',')}`;
        return;
      }
      if (Date.now() > deadline) throw new Error(`${target} has workers [${now.join(',')}] ${WORKER_RESTART_MS} ms after worker ${pid} was killed (${this.opts.clientWorkers} configured)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGSTOP of one worker process for the hold, then SIGCONT; the member must still be up. */
  private async pauseWorker(target: string, isLeader: boolean, begin: (d: string) => void, hold: () => Promise<void>, record: FaultRecord): Promise<void> {
    const { member, pid } = this.pickWorker(target, isLeader, begin);
    member.signalWorker(pid, 'SIGSTOP');
    try {
      await hold();
    } finally {
      member.signalWorker(pid, 'SIGCONT');
    }
    if (!member.running) throw new Error(`${target} exited while its worker ${pid} was stopped`);
    // A worker the primary cut off while it was stopped (its channel over the bound) exits and is
    // started again: the report says so, it is not an error.
    if (!member.workerPids().includes(pid)) record.detail += ': the stopped worker is gone (restarted)';
  }

  private async membership(target: string, begin: (d: string) => void, hold: () => Promise<void>): Promise<void> {
    const { cluster } = this.opts;
    // A configuration change needs a healthy quorum; the previous fault may still be settling.
    await cluster.waitHealthy(30_000);
    const via = (await cluster.leader()) ?? cluster.names.find((n) => n !== target)!;
    begin(`remove and re-add ${target} via ${via}`);
    await cluster.removeMember(target, via);
    await hold();
    for (let attempt = 1; ; attempt++) {
      try {
        const via2 = (await cluster.leader()) ?? via;
        await cluster.readdMember(target, via2);
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        this.opts.log(`nemesis: re-adding ${target} failed (attempt ${attempt}): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async connectionFlood(target: string, isLeader: boolean, begin: (d: string) => void, hold: () => Promise<void>, record: FaultRecord): Promise<void> {
    const member = this.opts.cluster.member(target);
    const count = floodSize(this.opts.floodConnections);
    begin(`${target}${isLeader ? ' (leader)' : ''} held by ${count} idle connections`);
    const flood = new ConnectionFlood();
    try {
      await flood.open(member.clientUrl, count, () => this.stopped);
      await hold();
      const c = flood.counts();
      record.detail += `: ${c.parked} parked, ${c.refused} refused, ${c.dropped} dropped`;
      if (!member.running) throw new Error(`${target} exited under the flood`);
    } finally {
      flood.close();
    }
  }

  private async snapshotIsolation(target: string, begin: (d: string) => void): Promise<void> {
    const { cluster } = this.opts;
    // The leader keeps CATCH_UP_ENTRIES behind its snapshot for slow followers; get past both.
    const count = this.opts.snapshotCount + CATCH_UP_ENTRIES + 200;
    begin(`${target} isolated while ${count} entries are written`);
    cluster.links.partition([[target], cluster.names.filter((n) => n !== target)]);
    const writers = cluster.names.filter((n) => n !== target).map((n) => cluster.member(n).clientUrl);
    let written = 0;
    let attempts = 0;
    // The filler keys live outside the workload's directory: they only push the log forward.
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      while (written < count && attempts < count * 4) {
        attempts += 1;
        try {
          const res = await http('PUT', `${writers[(w + attempts) % writers.length]}/v2/keys/chaos-fill/f${w}`, { form: { value: String(attempts) }, timeoutMs: 3_000 });
          if (res.status === 200 || res.status === 201) written += 1;
        } catch {
          // a member may be down; try the next
        }
      }
    }));
    this.opts.log(`nemesis: ${written} filler entries written while ${target} was isolated`);
    cluster.links.heal();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
