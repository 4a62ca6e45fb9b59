/**
 * One simulation run = one seed: a cluster under a random workload and random faults (the chaos
 * phase), then every fault healed and a bounded liveness phase that must elect a leader and commit
 * a new write on every running member. Safety invariants are checked at every step throughout.
 */
import { StateType } from '@deimos/raft';
import { Cluster, ROUNDS_PER_TICK } from './cluster.js';
import type { NetworkFaults } from './network.js';
import { Nemesis, type FaultProfile } from './nemesis.js';
import { SimRng } from './rng.js';
import type { NodeTuning, Sabotage } from './sim-node.js';
import { Trace } from './trace.js';
import { InvariantViolation, type Invariant } from './violation.js';
import { MARKER_KEY, Workload, type WorkloadRates, type WorkloadStats } from './workload.js';

/** What to run. */
export interface SimulationOptions {
  seed: number;
  /** Voters of the initial cluster (3 or 5 in CI). */
  nodeCount: number;
  /** Length of the chaos phase; default {@link DEFAULT_CHAOS_TICKS}. */
  chaosTicks?: number;
  /** The liveness phase must succeed within this many election timeouts; default 20. */
  livenessElectionTimeouts?: number;
  /** Prints every trace line as it happens (replay mode). */
  echo?: (line: string) => void;
  /** Trace lines kept for the failure report; default 80. */
  traceTailLines?: number;
  /** A deliberate server bug (only for tests that prove the checker can fail). */
  sabotage?: Sabotage;
}

/** Everything a run chose from its seed. */
export interface SimulationConfig {
  tuning: NodeTuning;
  rates: WorkloadRates;
  profile: FaultProfile;
  maxExtraNodes: number;
}

/** Why a run failed. */
export interface SimulationFailure {
  invariant: Invariant;
  message: string;
  stack: string;
  round: number;
  trace: string[];
  nodes: string[];
}

/** Outcome and counters of one run. */
export interface SimulationResult {
  seed: number;
  nodeCount: number;
  chaosTicks: number;
  ok: boolean;
  failure?: SimulationFailure;
  config: SimulationConfig;
  stats: WorkloadStats & {
    ticks: number;
    livenessTicks: number;
    leaders: number;
    commitIndex: number;
    crashes: number;
    partitions: number;
    confChanges: number;
    readsChecked: number;
  };
}

/** Default chaos phase length in ticks. */
export const DEFAULT_CHAOS_TICKS = 600;

/** Cluster size a seed runs with unless told otherwise: even seeds 3 nodes, odd seeds 5. */
export function defaultNodeCount(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

/** The shell command that replays a run. */
export function replayCommand(opts: Pick<SimulationOptions, 'seed' | 'nodeCount' | 'chaosTicks'>): string {
  const env = [`SIM_SEED=${opts.seed}`];
  if (opts.nodeCount !== defaultNodeCount(opts.seed)) env.push(`SIM_NODES=${opts.nodeCount}`);
  if (opts.chaosTicks !== undefined && opts.chaosTicks !== DEFAULT_CHAOS_TICKS) env.push(`SIM_TICKS=${opts.chaosTicks}`);
  return `${env.join(' ')} npm run sim`;
}

/** Chooses the run's knobs from its seed. */
export function chooseConfig(rng: SimRng): SimulationConfig {
  const networks: NetworkFaults[] = [
    { dropRate: 0, duplicateRate: 0, minDelayRounds: 1, maxDelayRounds: 2 },
    { dropRate: 0.02, duplicateRate: 0.02, minDelayRounds: 1, maxDelayRounds: 4 },
    { dropRate: 0.1, duplicateRate: 0.05, minDelayRounds: 1, maxDelayRounds: 8 },
    { dropRate: 0.3, duplicateRate: 0.1, minDelayRounds: 2, maxDelayRounds: 24 },
  ];
  const electionTicks = 10;
  // Message size and pipelining are chosen as a pair: one 1-byte-limited MsgApp in flight at a time
  // replicates slower than the workload proposes, which only grows a backlog the liveness phase
  // cannot drain in 20 election timeouts (a throughput limit, not a bug).
  const [maxSizePerMsg, maxInflightMsgs] = rng.pick([[1, 64], [128, 4], [1024, 1], [1 << 20, 256], [1 << 20, 1]] as const);
  return {
    tuning: {
      electionTicks,
      heartbeatTicks: rng.between(1, 3),
      checkQuorum: rng.chance(0.5),
      preVote: rng.chance(0.5),
      maxSizePerMsg,
      maxInflightMsgs,
      maxUncommittedEntriesSize: rng.pick([512, 4096, Number.POSITIVE_INFINITY]),
      maxCommittedSizePerReady: rng.pick([1, 256, 4096, 1 << 20]),
      snapshotEveryEntries: rng.between(5, 80),
      snapshotKeepEntries: rng.between(0, 20),
      leaderSendsBeforePersist: rng.chance(0.5),
    },
    rates: {
      propose: rng.pick([0.2, 0.5, 0.9]),
      read: rng.pick([0.05, 0.2]),
      confChange: rng.pick([0, 0.01, 0.03]),
      transfer: rng.pick([0, 0.005, 0.02]),
      campaign: rng.pick([0, 0.003, 0.02]),
    },
    profile: {
      crash: rng.pick([0, 0.005, 0.02]),
      partition: rng.pick([0, 0.01, 0.03]),
      networkChange: 0.01,
      networks: networks.slice(0, rng.between(1, networks.length)),
      maxDownTicks: rng.pick([5, 40, 150]),
      maxPartitionTicks: rng.pick([20, 100, 300]),
      tickSkip: rng.pick([0, 0.05]),
      crashAfterVote: rng.pick([0, 0.1, 0.3]),
      crashAfterAppend: rng.pick([0, 0.002, 0.01]),
    },
    maxExtraNodes: rng.between(0, 4),
  };
}

/** Runs one seed; never throws for a property violation, it returns it in the result. */
export function runSimulation(opts: SimulationOptions): SimulationResult {
  const rng = new SimRng(opts.seed);
  const config = chooseConfig(rng);
  if (opts.sabotage !== undefined) config.tuning.sabotage = opts.sabotage;
  const trace = new Trace(opts.traceTailLines ?? 80, opts.echo);
  const voters = Array.from({ length: opts.nodeCount }, (_, i) => (i + 1).toString(16));
  const cluster = new Cluster(rng.fork(), { voters, learners: [] }, config.tuning, config.profile.networks[0]!, trace);
  const workload = new Workload(cluster, rng.fork(), config.rates, config.maxExtraNodes);
  const nemesis = new Nemesis(cluster, rng.fork(), config.profile);
  const chaosTicks = opts.chaosTicks ?? DEFAULT_CHAOS_TICKS;
  const livenessTicks = (opts.livenessElectionTimeouts ?? 20) * config.tuning.electionTicks;
  trace.log(0, `seed ${opts.seed}: ${opts.nodeCount} nodes, ${JSON.stringify(config.tuning)}`);
  let failure: SimulationFailure | undefined;
  let livenessTook = 0;
  try {
    for (const id of voters) cluster.addNode(id);
    for (let t = 0; t < chaosTicks; t++) {
      nemesis.step();
      workload.step();
      for (let r = 0; r < ROUNDS_PER_TICK; r++) cluster.step(nemesis.skipTick);
    }
    nemesis.healAll();
    livenessTook = runLiveness(cluster, workload, livenessTicks);
  } catch (err) {
    failure = describeFailure(err, cluster, trace);
  }
  const result: SimulationResult = {
    seed: opts.seed,
    nodeCount: opts.nodeCount,
    chaosTicks,
    ok: failure === undefined,
    config,
    stats: {
      ...workload.stats,
      ticks: cluster.tick,
      livenessTicks: livenessTook,
      leaders: cluster.checker.leaders().size,
      commitIndex: cluster.checker.maxCommit,
      crashes: nemesis.stats.crashes,
      partitions: nemesis.stats.partitions,
      confChanges: cluster.confChangesApplied,
      readsChecked: cluster.checker.readsChecked,
    },
  };
  if (failure !== undefined) result.failure = failure;
  return result;
}

/**
 * With every fault healed, a leader must appear and a fresh write must reach every running member
 * of its configuration within `limitTicks`; returns the ticks it took.
 */
function runLiveness(cluster: Cluster, workload: Workload, limitTicks: number): number {
  let proposedUnder: string | undefined;
  for (let t = 0; t <= limitTicks; t++) {
    const leader = cluster.leader();
    if (leader !== undefined) {
      const tag = `${leader.id}/${leader.durable.hardState.term}`;
      if (tag !== proposedUnder && workload.proposeMarker(leader)) proposedUnder = tag;
      if (markerEverywhere(cluster)) {
        cluster.log(`liveness: leader ${leader.id} committed a new write everywhere after ${t} ticks`);
        return t;
      }
    }
    for (let r = 0; r < ROUNDS_PER_TICK; r++) cluster.step();
  }
  throw new InvariantViolation('liveness',
    `no leader committed a new write on every running member within ${limitTicks} ticks after healing`);
}

function markerEverywhere(cluster: Cluster): boolean {
  const leader = cluster.leader();
  if (leader === undefined) return false;
  const { voters, learners } = leader.confState;
  for (const id of [leader.id, ...voters, ...learners]) {
    const n = cluster.nodes.get(id);
    if (n === undefined || !n.running) continue;
    if (!n.kv.map.has(MARKER_KEY)) return false;
  }
  return true;
}

function describeFailure(err: unknown, cluster: Cluster, trace: Trace): SimulationFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  const nodes = [...cluster.nodes.values()].map((n) => {
    const hs = n.durable.hardState;
    const role = n.running ? (n.raftState === StateType.Leader ? 'leader' : n.raftState.replace('State', '').toLowerCase()) : 'down';
    return `node ${n.id}: ${role} term ${hs.term} vote ${hs.vote} commit ${hs.commit} applied ${n.applied} `
      + `snapshot ${n.durable.snapshotIndex()} last ${n.durable.lastIndex()} voters [${n.confState.voters.join(',')}] `
      + `learners [${n.confState.learners.join(',')}]${cluster.removedIds.has(n.id) ? ' removed' : ''}`;
  });
  return {
    invariant: err instanceof InvariantViolation ? err.invariant : 'core-threw',
    message: e.message,
    stack: e.stack ?? e.message,
    round: cluster.round,
    trace: trace.tail(),
    nodes,
  };
}

/** A multi-line failure report ending with the command that replays the run. */
export function formatFailure(result: SimulationResult): string {
  const f = result.failure;
  if (f === undefined) return `seed ${result.seed}: ok`;
  return [
    `FAIL seed ${result.seed} (${result.nodeCount} nodes) at round ${f.round} (tick ${Math.floor(f.round / ROUNDS_PER_TICK)}): ${f.message}`,
    `config: ${JSON.stringify(result.config.tuning)}`,
    ...f.nodes.map((l) => `  ${l}`),
    'last events:',
    ...f.trace.map((l) => `  ${l}`),
    ...(f.invariant === 'core-threw' ? [f.stack] : []),
    `replay: ${replayCommand(result)}`,
  ].join('\n');
}
