/**
 * A simulated cluster: the nodes, the fake network between them, simulated time in rounds, and the
 * plumbing that feeds every durable write, apply and read to the {@link SafetyChecker}.
 */
import {
  ConfChangeType, MessageType,
  type ConfChange, type ConfState, type Entry, type HardState, type Message, type NodeId, type Snapshot,
} from '@deimos/protocol';
import { SnapshotStatus, type ReadState, type Ready } from '@deimos/raft';
import { SafetyChecker } from './invariants.js';
import type { KvMachine } from './kv-machine.js';
import { Network, type DropReason, type NetworkFaults } from './network.js';
import type { SimRng } from './rng.js';
import { SimNode, type CrashPoint, type NodeObserver, type NodeTuning } from './sim-node.js';
import type { Trace } from './trace.js';

/** Rounds of message delivery per tick. */
export const ROUNDS_PER_TICK = 4;
const MAX_READY_CYCLES = 1_000;
/** A removed node that has not applied its own removal keeps running this long (it may still disrupt). */
const REMOVED_GRACE_ROUNDS = 50 * ROUNDS_PER_TICK;

interface Report {
  from: NodeId;
  to: NodeId;
  kind: 'snapshot-finish' | 'snapshot-failure' | 'unreachable';
}

/** The nodes, the network and the clock of one simulation run. */
export class Cluster implements NodeObserver {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly checker = new SafetyChecker();
  readonly network: Network;
  /** The configuration after the highest-index conf change applied anywhere. */
  latestConf: { index: number; conf: ConfState };
  /** Nodes whose removal was applied somewhere; they are stopped and never restarted. */
  readonly removedIds = new Set<NodeId>();
  round = 0;
  confChangesApplied = 0;
  /** Decides whether a node crashes inside a given Ready (targeted crashes); set by the nemesis. */
  crashPolicy: ((n: SimNode, rd: Ready) => CrashPoint | undefined) | undefined;
  private readonly crashInReady = new Map<NodeId, CrashPoint>();
  /** Round at which each removed node is stopped if it has not learned of its removal by then. */
  private readonly stopAt = new Map<NodeId, number>();
  private reports: Report[] = [];

  constructor(
    private readonly rng: SimRng,
    readonly initialConf: ConfState,
    readonly tuning: NodeTuning,
    faults: NetworkFaults,
    readonly trace: Trace,
  ) {
    this.network = new Network(rng.fork(), faults, (m, why) => this.dropped(m, why));
    this.latestConf = { index: 0, conf: initialConf };
  }

  /** Current tick (rounds / ROUNDS_PER_TICK). */
  get tick(): number {
    return Math.floor(this.round / ROUNDS_PER_TICK);
  }

  /** Creates and starts a node; initial members and joiners alike know the index-0 configuration. */
  addNode(id: NodeId): SimNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    const node = new SimNode(id, this.initialConf, this.tuning, this.rng.fork(), this);
    this.nodes.set(id, node);
    node.start();
    this.log(`start ${id}`);
    return node;
  }

  /** Running nodes, in creation order. */
  running(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  /** The running node that believes it leads with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (!n.running || !n.isLeader) continue;
      if (best === undefined || n.durable.hardState.term > best.durable.hardState.term) best = n;
    }
    return best;
  }

  /** Advances one round: reports, deliveries and, every ROUNDS_PER_TICK rounds, a tick on each node. */
  step(skipTick?: (n: SimNode) => boolean): void {
    this.round++;
    this.stopRemoved();
    this.flushReports();
    for (const m of this.network.takeDue(this.round)) this.deliver(m);
    if (this.round % ROUNDS_PER_TICK !== 0) return;
    for (const n of this.nodes.values()) {
      if (!n.running || skipTick?.(n) === true) continue;
      n.node().tick();
      this.drain(n);
    }
  }

  private stopRemoved(): void {
    if (this.stopAt.size === 0) return;
    for (const [id, at] of this.stopAt) {
      if (at > this.round) continue;
      this.stopAt.delete(id);
      const n = this.nodes.get(id);
      if (n !== undefined && n.running) this.stop(n, 'removed from the cluster');
    }
  }

  private deliver(m: Message): void {
    const dest = this.nodes.get(m.to);
    if (dest === undefined || !dest.running) {
      this.dropped(m, 'unreachable');
      return;
    }
    if (this.trace.verbose) this.log(`deliver ${describe(m)}`);
    if (m.type === MessageType.MsgSnap) this.reports.push({ from: m.from, to: m.to, kind: 'snapshot-finish' });
    dest.node().step(m);
    this.drain(dest);
  }

  private dropped(m: Message, why: DropReason): void {
    if (this.trace.verbose) this.log(`drop (${why}) ${describe(m)}`);
    if (m.type === MessageType.MsgSnap) this.reports.push({ from: m.from, to: m.to, kind: 'snapshot-failure' });
    else if (why !== 'random' && m.type === MessageType.MsgApp) this.reports.push({ from: m.from, to: m.to, kind: 'unreachable' });
  }

  private flushReports(): void {
    const reports = this.reports;
    this.reports = [];
    for (const r of reports) {
      const from = this.nodes.get(r.from);
      if (from === undefined || !from.running) continue;
      if (r.kind === 'unreachable') from.node().reportUnreachable(r.to);
      else from.node().reportSnapshot(r.to, r.kind === 'snapshot-finish' ? SnapshotStatus.Finish : SnapshotStatus.Failure);
      this.drain(from);
    }
  }

  /** Runs Ready cycles on `n` until it has nothing more to do (or it crashes). */
  drain(n: SimNode): void {
    for (let i = 0; n.running && n.node().hasReady(); i++) {
      if (i >= MAX_READY_CYCLES) throw new Error(`node ${n.id} still has a Ready after ${MAX_READY_CYCLES} cycles`);
      let crashAt: CrashPoint | undefined;
      const survived = n.handleReady((msgs) => this.send(msgs), (rd) => {
        crashAt = this.crashInReady.get(n.id);
        if (crashAt !== undefined) this.crashInReady.delete(n.id);
        else crashAt = this.crashPolicy?.(n, rd);
        return crashAt;
      });
      if (!survived) {
        this.log(`crash ${n.id} (${crashAt} of a Ready)`);
        n.crash();
      }
    }
    if (n.removed && n.running) this.stop(n, 'applied its own removal');
  }

  private send(msgs: readonly Message[]): void {
    for (const m of msgs) this.network.send(m, this.round);
  }

  /** Crashes a node now, or (with `point`) in the middle of its next Ready cycle. */
  crash(id: NodeId, point?: CrashPoint): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.running) return;
    if (point !== undefined) {
      this.crashInReady.set(id, point);
      return;
    }
    n.crash();
    this.log(`crash ${id}`);
  }

  /** Restarts a crashed node from its durable state (never a removed one). */
  restart(id: NodeId): void {
    this.crashInReady.delete(id);
    const n = this.nodes.get(id);
    if (n === undefined || n.running || this.removedIds.has(id)) return;
    n.start();
    this.log(`restart ${id} (durable: snapshot ${n.durable.snapshotIndex()}, last ${n.durable.lastIndex()}, commit ${n.durable.hardState.commit})`);
    this.drain(n);
  }

  /** Forgets crashes scheduled inside future Ready cycles. */
  cancelPendingCrashes(): void {
    this.crashInReady.clear();
    this.crashPolicy = undefined;
  }

  /** Stops a removed node for good. */
  stop(n: SimNode, why: string): void {
    if (n.running) n.crash();
    this.log(`stop ${n.id} (${why})`);
  }

  log(line: string): void {
    this.trace.log(this.round, line);
  }

  // NodeObserver: forward to the checker, keep cluster bookkeeping, trace the interesting bits.

  becameLeader(node: SimNode, term: number): void {
    this.log(`leader ${node.id} term ${term} (last index ${node.durable.lastIndex()})`);
    this.checker.becameLeader(node, term);
  }

  leaderLogDurable(node: SimNode, term: number): void {
    this.checker.leaderLogDurable(node, term);
  }

  entriesPersisted(node: SimNode, entries: readonly Entry[], removed: readonly Entry[]): void {
    if (removed.length > 0) this.log(`${node.id} truncates ${removed.length} entries from ${removed[0]!.index}`);
    this.checker.entriesPersisted(node, entries, removed);
  }

  hardStatePersisted(node: SimNode, prev: HardState, next: HardState): void {
    if (this.trace.verbose && (next.term !== prev.term || next.vote !== prev.vote)) {
      this.log(`${node.id} hard state term ${next.term} vote ${next.vote} commit ${next.commit}`);
    }
    this.checker.hardStatePersisted(node, prev, next);
  }

  snapshotPersisted(node: SimNode, snap: Snapshot): void {
    this.log(`${node.id} receives snapshot ${snap.metadata.index}/${snap.metadata.term}`);
    this.checker.snapshotPersisted(node, snap);
  }

  snapshotInstalled(node: SimNode, snap: Snapshot, kv: KvMachine, appliedBefore: number): void {
    this.checker.snapshotInstalled(node, snap, kv, appliedBefore);
  }

  snapshotCreated(node: SimNode, snap: Snapshot, kv: KvMachine): void {
    if (this.trace.verbose) this.log(`${node.id} snapshots at ${snap.metadata.index}`);
    this.checker.snapshotCreated(node, snap, kv);
  }

  entryApplied(node: SimNode, entry: Entry, kv: KvMachine): void {
    this.checker.entryApplied(node, entry, kv);
  }

  confChangeApplied(node: SimNode, cc: ConfChange, index: number, confState: ConfState): void {
    if (index > this.latestConf.index) {
      this.latestConf = { index, conf: confState };
      this.confChangesApplied++;
      this.log(`conf ${index}: ${ConfChangeType[cc.type]} ${cc.nodeId} -> voters [${confState.voters.join(',')}] learners [${confState.learners.join(',')}]`);
    }
    if (cc.type === ConfChangeType.RemoveNode) {
      if (!this.removedIds.has(cc.nodeId)) this.stopAt.set(cc.nodeId, this.round + REMOVED_GRACE_ROUNDS);
      this.removedIds.add(cc.nodeId);
      if (cc.nodeId === node.id) node.removed = true;
    }
  }

  readStateReceived(node: SimNode, rs: ReadState, readId: number): void {
    this.checker.readStateReceived(node, rs, readId);
  }

  readServed(node: SimNode, readId: number, key: string, value: string | undefined, appliedIndex: number): void {
    this.checker.readServed(node, readId, key, value, appliedIndex);
  }
}

/** A one-line description of a message for traces. */
export function describe(m: Message): string {
  let s = `${MessageType[m.type]} ${m.from}->${m.to} t${m.term}`;
  if (m.type === MessageType.MsgApp) s += ` i${m.index}/${m.logTerm} n${m.entries.length} c${m.commit}`;
  else if (m.type === MessageType.MsgAppResp) s += ` i${m.index}${m.reject ? ` reject hint ${m.rejectHint}` : ''}`;
  else if (m.type === MessageType.MsgSnap) s += ` snap ${m.snapshot?.metadata.index}`;
  else if (m.reject) s += ' reject';
  return s;
}
