/**
 * A tiny synchronous network of RawNodes for scenario tests: it persists each Ready into the
 * node's MemoryStorage, applies committed entries (and conf changes), delivers messages in FIFO
 * order, and drops messages matching the active filters.
 */
import {
  ConfChangeType, EntryType, MessageType, NONE,
  type ConfState, type Entry, type Message, type NodeId,
} from '@deimos/protocol';
import {
  MemoryStorage, RawNode, SnapshotStatus, StateType, confChangeFromBytes,
  type RaftConfig, type ReadState, type Rng, type SoftState,
} from '@deimos/raft';

/** A small seeded PRNG (mulberry32). */
export class SeededRng implements Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  nextInt(n: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const x = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(x * n);
  }
}

/** One node of the test network and what it has applied. */
export interface TestNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  config: RaftConfig;
  /** Data of applied non-empty normal entries, as strings. */
  applied: string[];
  appliedIndex: number;
  readStates: ReadState[];
  confState: ConfState;
  softState: SoftState;
}

export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'storage'>>;

/** Builds the encoded payload of a proposal. */
export function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** The string in `b`. */
export function text(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

/** A synchronous in-memory network of raft nodes. */
export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Every message handed to the network (delivered or dropped), in order. */
  readonly sent: Message[] = [];
  private queue: Message[] = [];
  private filters: Array<(m: Message) => boolean> = [];
  private seed = 1;

  /** Creates `voters` (and `learners`) bootstrapped with that configuration. */
  constructor(voters: NodeId[], private readonly defaults: NodeOptions = {}, learners: NodeId[] = []) {
    for (const id of [...voters, ...learners]) this.add(id, { voters, learners });
  }

  /** Adds a node; with `bootstrap` it starts with that configuration, otherwise empty (joining). */
  add(id: NodeId, bootstrap?: ConfState, options: NodeOptions = {}, storage = new MemoryStorage()): TestNode {
    if (bootstrap !== undefined && storage.lastIndex() === 0 && storage.snapshot().metadata.index === 0) storage.bootstrap(bootstrap);
    const config: RaftConfig = {
      id, electionTicks: 10, heartbeatTicks: 1, storage, rng: new SeededRng(this.seed++), ...this.defaults, ...options,
    };
    const node = new RawNode(config);
    const tn: TestNode = {
      id, node, storage, config, applied: [], appliedIndex: storage.snapshot().metadata.index, readStates: [],
      confState: storage.initialState().confState, softState: { lead: NONE, raftState: StateType.Follower },
    };
    this.nodes.set(id, tn);
    return tn;
  }

  /** Restarts a node from its durable storage (a crash loses nothing persisted). */
  restart(id: NodeId, options: NodeOptions = {}): TestNode {
    const old = this.get(id);
    const tn = this.add(id, undefined, { ...options, applied: old.appliedIndex }, old.storage);
    tn.applied = old.applied;
    tn.appliedIndex = old.appliedIndex;
    tn.confState = old.confState;
    return tn;
  }

  get(id: NodeId): TestNode {
    const tn = this.nodes.get(id);
    if (tn === undefined) throw new Error(`no node ${id}`);
    return tn;
  }

  raw(id: NodeId): RawNode {
    return this.get(id).node;
  }

  /** Drops messages for which `fn` returns true until the filter is removed; returns the remover. */
  drop(fn: (m: Message) => boolean): () => void {
    this.filters.push(fn);
    return () => { this.filters = this.filters.filter((f) => f !== fn); };
  }

  /** Drops every message between the two groups. */
  partition(a: NodeId[], b: NodeId[]): () => void {
    return this.drop((m) => (a.includes(m.from) && b.includes(m.to)) || (b.includes(m.from) && a.includes(m.to)));
  }

  /** Drops every message to or from `id`. */
  isolate(id: NodeId): () => void {
    return this.drop((m) => m.from === id || m.to === id);
  }

  heal(): void {
    this.filters = [];
  }

  /** Called for every entry a node applies (for invariant checks). */
  onApply: ((tn: TestNode, e: Entry) => void) | undefined = undefined;

  /** Handles every pending Ready once, queueing their messages without delivering them. */
  processReadies(): void {
    for (const tn of this.nodes.values()) {
      while (tn.node.hasReady()) this.handleReady(tn);
    }
  }

  /** Takes the queued, undelivered messages (for tests that deliver them in their own order). */
  takeMessages(): Message[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }

  /** Processes Readies and delivers messages until nothing moves. */
  drain(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const tn of this.nodes.values()) {
        while (tn.node.hasReady()) {
          this.handleReady(tn);
          moved = true;
        }
      }
      if (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        for (const m of batch) this.deliver(m);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('network did not quiesce');
  }

  /** When true, the sender of a MsgSnap is told whether it was delivered (like a transport would). */
  reportSnapshots = true;

  /** Steps a message into its destination unless a filter drops it. */
  deliver(m: Message): void {
    const dropped = this.filters.some((f) => f(m));
    const tn = this.nodes.get(m.to);
    if (!dropped && tn !== undefined) tn.node.step(m);
    if (m.type === MessageType.MsgSnap && this.reportSnapshots) {
      this.nodes.get(m.from)?.node.reportSnapshot(m.to, dropped ? SnapshotStatus.Failure : SnapshotStatus.Finish);
    }
  }

  /** Snapshots a node's state machine at its applied index and compacts its log there. */
  snapshotAndCompact(id: NodeId): void {
    const tn = this.get(id);
    tn.storage.createSnapshot(tn.appliedIndex, tn.confState, bytes(tn.applied.join('\n')));
    tn.storage.compact(tn.appliedIndex);
  }

  /** Ticks the given nodes (default: all) `n` times, draining after each tick. */
  tick(n = 1, ids: NodeId[] = [...this.nodes.keys()]): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.raw(id).tick();
      this.drain();
    }
  }

  /** Makes `id` campaign and drains. */
  campaign(id: NodeId): void {
    this.raw(id).campaign();
    this.drain();
  }

  propose(id: NodeId, data: string): void {
    this.raw(id).propose(bytes(data));
    this.drain();
  }

  /** The node that believes it leads at the highest term, or NONE. */
  leader(): NodeId {
    let best: TestNode | undefined;
    for (const tn of this.nodes.values()) {
      const st = tn.node.status();
      if (st.softState.raftState !== StateType.Leader) continue;
      if (best === undefined || st.hardState.term > best.node.status().hardState.term) best = tn;
    }
    return best?.id ?? NONE;
  }

  state(id: NodeId): StateType {
    return this.raw(id).status().softState.raftState;
  }

  term(id: NodeId): number {
    return this.raw(id).status().hardState.term;
  }

  commit(id: NodeId): number {
    return this.raw(id).status().hardState.commit;
  }

  /** Every entry in a node's durable log after the snapshot. */
  log(id: NodeId): Entry[] {
    const s = this.get(id).storage;
    if (s.lastIndex() < s.firstIndex()) return [];
    return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.POSITIVE_INFINITY);
  }

  /** Messages of `type` handed to the network so far. */
  sentOf(type: MessageType): Message[] {
    return this.sent.filter((m) => m.type === type);
  }

  private handleReady(tn: TestNode): void {
    const rd = tn.node.ready();
    if (rd.softState !== undefined) tn.softState = rd.softState;
    if (rd.snapshot !== undefined) {
      tn.storage.applySnapshot(rd.snapshot);
      tn.confState = rd.snapshot.metadata.confState;
      tn.appliedIndex = rd.snapshot.metadata.index;
      tn.applied = rd.snapshot.data.length > 0 ? text(rd.snapshot.data).split('\n') : [];
    }
    tn.storage.append(rd.entries);
    if (rd.hardState !== undefined) tn.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      this.sent.push(m);
      this.queue.push(m);
    }
    for (const e of rd.committedEntries) this.apply(tn, e);
    tn.readStates.push(...rd.readStates);
    tn.node.advance();
  }

  private apply(tn: TestNode, e: Entry): void {
    if (e.index !== tn.appliedIndex + 1) throw new Error(`${tn.id} applies ${e.index} after ${tn.appliedIndex}`);
    tn.appliedIndex = e.index;
    this.onApply?.(tn, e);
    if (e.type === EntryType.ConfChange) {
      tn.confState = tn.node.applyConfChange(confChangeFromBytes(e.data));
      tn.storage.setConfState(tn.confState);
    } else if (e.data.length > 0) {
      tn.applied.push(text(e.data));
    }
  }
}

/** Shorthand for a conf change without context. */
export function cc(type: ConfChangeType, nodeId: NodeId) {
  return { type, nodeId, context: new Uint8Array(0) };
}

/** A 3-node cluster with `1` elected leader. */
export function threeNodes(options: NodeOptions = {}): Network {
  const net = new Network(['1', '2', '3'], options);
  net.campaign('1');
  return net;
}
