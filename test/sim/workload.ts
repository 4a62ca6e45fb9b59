/**
 * The random client workload of a simulation run: writes, linearizable reads, membership changes
 * (add a voter, add a learner then promote it, remove a member) and leadership transfers.
 */
import { ConfChangeType, EMPTY_BYTES, type NodeId } from '@deimos/protocol';
import { ProposalDroppedError } from '@deimos/raft';
import type { Cluster } from './cluster.js';
import { encodeOp } from './kv-machine.js';
import type { SimRng } from './rng.js';
import type { SimNode } from './sim-node.js';

/** Per-tick probabilities of each client action. */
export interface WorkloadRates {
  propose: number;
  read: number;
  confChange: number;
  transfer: number;
  campaign: number;
}

/** Counters for the run summary. */
export interface WorkloadStats {
  proposals: number;
  proposalsDropped: number;
  reads: number;
  confChangesProposed: number;
  transfers: number;
}

const KEYS = 8;
const MAX_VOTERS = 7;
const MIN_VOTERS = 2;
/** A membership change not applied within this many ticks is presumed lost. */
const CONF_CHANGE_TIMEOUT_TICKS = 100;
/** Key written only by the liveness phase. */
export const MARKER_KEY = 'marker';

/** Drives random client traffic against a cluster. */
export class Workload {
  readonly stats: WorkloadStats = { proposals: 0, proposalsDropped: 0, reads: 0, confChangesProposed: 0, transfers: 0 };
  private nextOpId = 1;
  private nextReadId = 1;
  private nextNodeNumber: number;
  private pendingConf: { afterIndex: number; sinceTick: number } | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: SimRng,
    private readonly rates: WorkloadRates,
    private readonly maxExtraNodes: number,
  ) {
    this.nextNodeNumber = cluster.initialConf.voters.length + 1;
  }

  /** One tick's worth of random client actions. */
  step(): void {
    const rng = this.rng;
    if (rng.chance(this.rates.propose)) this.proposeBatch(rng.between(1, 4));
    if (rng.chance(this.rates.read)) this.read();
    if (rng.chance(this.rates.confChange)) this.changeMembership();
    if (rng.chance(this.rates.transfer)) this.transfer();
    if (rng.chance(this.rates.campaign)) this.campaign();
  }

  /** Proposes `count` writes on one node: usually the leader, sometimes a follower (forwarding). */
  proposeBatch(count: number): void {
    const leader = this.cluster.leader();
    const n = leader !== undefined && this.rng.chance(0.7) ? leader : this.randomRunning();
    if (n === undefined) return;
    for (let i = 0; i < count; i++) {
      const id = this.nextOpId++;
      this.propose(n, encodeOp({ key: `k${this.rng.nextInt(KEYS)}`, value: `v${id}`, id }));
    }
    this.cluster.drain(n);
  }

  /** Proposes a liveness marker on the leader; returns false when there is none or it dropped it. */
  proposeMarker(leader: SimNode): boolean {
    const id = this.nextOpId++;
    const ok = this.propose(leader, encodeOp({ key: MARKER_KEY, value: `m${id}`, id }));
    this.cluster.drain(leader);
    return ok;
  }

  private propose(n: SimNode, data: Uint8Array): boolean {
    this.stats.proposals++;
    try {
      n.node().propose(data);
      return true;
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.stats.proposalsDropped++;
      return false;
    }
  }

  private read(): void {
    const n = this.randomRunning();
    if (n === undefined) return;
    const readId = this.nextReadId++;
    this.stats.reads++;
    this.cluster.checker.readRequested(readId);
    this.act(n, () => n.requestRead(readId, `k${this.rng.nextInt(KEYS)}`));
  }

  /** Forces an election on one node, or on every node at once (an election storm with split votes). */
  private campaign(): void {
    const nodes = this.rng.chance(0.5) ? this.cluster.running() : [this.randomRunning()];
    this.cluster.log(`campaign on ${nodes.map((n) => n?.id).join(',')}`);
    for (const n of nodes) {
      if (n !== undefined && n.running) this.act(n, () => n.node().campaign());
    }
  }

  private transfer(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    // Mostly a voter; sometimes a learner, a removed node or a stranger, which the leader must refuse.
    const voters = leader.confState.voters.filter((v) => v !== leader.id);
    const anyone = [...this.cluster.nodes.keys(), 'ffff'].filter((v) => v !== leader.id);
    const pool = voters.length > 0 && this.rng.chance(0.8) ? voters : anyone;
    if (pool.length === 0) return;
    const target = this.rng.pick(pool);
    this.stats.transfers++;
    this.cluster.log(`transfer leadership ${leader.id} -> ${target}`);
    this.act(leader, () => leader.node().transferLeadership(target));
  }

  private changeMembership(): void {
    const { index, conf } = this.cluster.latestConf;
    if (this.pendingConf !== undefined) {
      const stale = this.cluster.tick - this.pendingConf.sinceTick > CONF_CHANGE_TIMEOUT_TICKS;
      if (index <= this.pendingConf.afterIndex && !stale) return;
      this.pendingConf = undefined;
    }
    const leader = this.cluster.leader();
    if (leader === undefined) return;
    const created = this.nextNodeNumber - 1 - this.cluster.initialConf.voters.length;
    const canCreate = created < this.maxExtraNodes && conf.voters.length < MAX_VOTERS;
    const learners = conf.learners.filter((l) => !this.cluster.removedIds.has(l));
    const choice = this.rng.nextInt(6);
    if (choice === 0 && learners.length > 0 && conf.voters.length < MAX_VOTERS) {
      this.proposeConf(leader, ConfChangeType.AddNode, this.rng.pick(learners));
    } else if (choice === 1 && canCreate) {
      this.proposeConf(leader, ConfChangeType.AddNode, this.newNodeId());
    } else if (choice === 2 && canCreate) {
      this.proposeConf(leader, ConfChangeType.AddLearnerNode, this.newNodeId());
    } else if (choice === 3 && conf.voters.length > MIN_VOTERS + 1) {
      // Demotes a voter (possibly the leader) to a learner.
      this.proposeConf(leader, ConfChangeType.AddLearnerNode, this.rng.pick(conf.voters));
    } else if (choice === 4) {
      this.proposeConf(leader, ConfChangeType.UpdateNode, this.rng.pick(conf.voters));
    } else if (conf.voters.length > MIN_VOTERS || learners.length > 0) {
      const candidates = conf.voters.length > MIN_VOTERS ? [...conf.voters, ...learners] : learners;
      this.proposeConf(leader, ConfChangeType.RemoveNode, this.rng.pick(candidates));
    }
  }

  private newNodeId(): NodeId {
    return (this.nextNodeNumber++).toString(16);
  }

  private proposeConf(leader: SimNode, type: ConfChangeType, nodeId: NodeId): void {
    const via = this.rng.chance(0.8) ? leader : (this.randomRunning() ?? leader);
    this.stats.confChangesProposed++;
    try {
      via.node().proposeConfChange({ type, nodeId, context: EMPTY_BYTES });
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.stats.proposalsDropped++;
      this.cluster.log(`conf change ${ConfChangeType[type]} ${nodeId} dropped by ${via.id}`);
      return;
    }
    this.cluster.log(`propose ${ConfChangeType[type]} ${nodeId} via ${via.id}`);
    this.pendingConf = { afterIndex: this.cluster.latestConf.index, sinceTick: this.cluster.tick };
    if (!this.cluster.nodes.has(nodeId)) this.cluster.addNode(nodeId);
    this.cluster.drain(via);
  }

  private act(n: SimNode, f: () => void): void {
    try {
      f();
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.stats.proposalsDropped++;
    }
    if (n.running) this.cluster.drain(n);
  }

  private randomRunning(): SimNode | undefined {
    const running = this.cluster.running();
    return running.length === 0 ? undefined : this.rng.pick(running);
  }
}
