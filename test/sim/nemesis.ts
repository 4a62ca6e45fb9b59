/**
 * The fault injector of a simulation run: crashes and restarts (also in the middle of a Ready
 * cycle), symmetric and one-way partitions, and changing network quality; `healAll` ends it all.
 */
import { NONE, type NodeId } from '@deimos/protocol';
import type { Ready } from '@deimos/raft';
import type { Cluster } from './cluster.js';
import { RELIABLE, type NetworkFaults } from './network.js';
import type { SimRng } from './rng.js';
import type { CrashPoint, SimNode } from './sim-node.js';

/** Per-tick fault probabilities and durations, chosen per run. */
export interface FaultProfile {
  crash: number;
  partition: number;
  /** Probability per tick of switching to another network quality. */
  networkChange: number;
  /** Network qualities to switch between. */
  networks: NetworkFaults[];
  maxDownTicks: number;
  maxPartitionTicks: number;
  /** Probability that a node skips a tick (a slow clock). */
  tickSkip: number;
  /** Probability of crashing inside a Ready that persists a new vote (restart within 3 ticks). */
  crashAfterVote: number;
  /** Probability of crashing inside a follower's Ready that appends entries (restart within 3 ticks). */
  crashAfterAppend: number;
}

const CRASH_POINTS: CrashPoint[] = ['before-persist', 'after-persist', 'after-send', 'after-apply'];

/** Counters for the run summary. */
export interface FaultStats {
  crashes: number;
  partitions: number;
}

/** Injects faults into a cluster. */
export class Nemesis {
  readonly stats: FaultStats = { crashes: 0, partitions: 0 };
  private readonly downUntil = new Map<NodeId, number>();
  private partitionUntil: number | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: SimRng,
    private readonly profile: FaultProfile,
  ) {
    cluster.crashPolicy = (n, rd) => this.targetedCrash(n, rd);
  }

  /**
   * Crashes aimed at the moments that matter: right after a node votes, or right after a follower
   * appends (and acknowledges) entries; the node comes back quickly so it can take part again.
   */
  private targetedCrash(n: SimNode, rd: Ready): CrashPoint | undefined {
    const hs = rd.hardState;
    const prev = n.durable.hardState;
    const voted = hs !== undefined && hs.vote !== NONE && (hs.vote !== prev.vote || hs.term !== prev.term);
    const appended = rd.entries.length > 0 && !n.isLeader;
    const p = voted ? this.profile.crashAfterVote : appended ? this.profile.crashAfterAppend : 0;
    if (p === 0 || !this.rng.chance(p)) return undefined;
    this.stats.crashes++;
    this.downUntil.set(n.id, this.cluster.tick + this.rng.between(1, 3));
    return this.rng.pick(CRASH_POINTS);
  }

  /** True when node `n` should skip this tick. */
  readonly skipTick = (): boolean => this.rng.chance(this.profile.tickSkip);

  /** One tick's worth of fault decisions. */
  step(): void {
    const now = this.cluster.tick;
    const rng = this.rng;
    for (const [id, until] of this.downUntil) {
      if (until > now) continue;
      this.downUntil.delete(id);
      this.cluster.restart(id);
    }
    if (this.partitionUntil !== undefined && this.partitionUntil <= now) {
      this.partitionUntil = undefined;
      this.cluster.network.heal();
      this.cluster.log('partition healed');
    }
    if (rng.chance(this.profile.crash)) this.crashOne(now);
    if (this.partitionUntil === undefined && rng.chance(this.profile.partition)) this.partition(now);
    if (rng.chance(this.profile.networkChange)) {
      this.cluster.network.faults = { ...rng.pick(this.profile.networks) };
    }
  }

  private crashOne(now: number): void {
    const running = this.cluster.running();
    if (running.length === 0) return;
    const leader = this.cluster.leader();
    const victim = leader !== undefined && this.rng.chance(0.3) ? leader : this.rng.pick(running);
    const point = this.rng.chance(0.5) ? this.rng.pick(CRASH_POINTS) : undefined;
    this.stats.crashes++;
    if (point !== undefined) this.cluster.log(`crash ${victim.id} scheduled at ${point} of its next Ready`);
    this.cluster.crash(victim.id, point);
    this.downUntil.set(victim.id, now + this.rng.between(1, this.profile.maxDownTicks));
  }

  private partition(now: number): void {
    const ids = this.cluster.running().map((n) => n.id);
    if (ids.length < 2) return;
    const net = this.cluster.network;
    const leader = this.cluster.leader();
    const kind = this.rng.nextInt(4);
    if (kind === 0) {
      const lone = leader !== undefined && this.rng.chance(0.5) ? leader.id : this.rng.pick(ids);
      net.partition([lone], ids.filter((x) => x !== lone));
    } else if (kind === 1) {
      const shuffled = this.rng.shuffle([...ids]);
      const cut = this.rng.between(1, shuffled.length - 1);
      net.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    } else {
      // One-way: the node can hear but not speak (kind 2), or speak but not hear (kind 3).
      const x = leader !== undefined && this.rng.chance(0.5) ? leader.id : this.rng.pick(ids);
      for (const y of ids) {
        if (y === x) continue;
        if (kind === 2) net.blockOneWay(x, y);
        else net.blockOneWay(y, x);
      }
    }
    this.stats.partitions++;
    this.partitionUntil = now + this.rng.between(5, this.profile.maxPartitionTicks);
    this.cluster.log(`partition until tick ${this.partitionUntil}: ${net.describeCuts()}`);
  }

  /** Ends every fault: links restored, network reliable, crashed members restarted. */
  healAll(): void {
    this.cluster.network.heal();
    this.cluster.network.faults = { ...RELIABLE };
    this.partitionUntil = undefined;
    this.cluster.cancelPendingCrashes();
    for (const n of this.cluster.nodes.values()) {
      if (!n.running) this.cluster.restart(n.id);
    }
    this.downUntil.clear();
    this.cluster.log('all faults healed');
  }
}
