/**
 * One simulated server: a RawNode, its durable state, its KV state machine, and the Ready loop that
 * ties them together (persist, send, install snapshot, apply, advance, then maybe compact).
 */
import {
  EMPTY_BYTES, EntryType, NONE, isEmptySnapshot,
  type ConfChange, type ConfState, type Entry, type HardState, type Message, type NodeId, type Snapshot,
} from '@deimos/protocol';
import {
  RawNode, StateType, confChangeFromBytes,
  type MemoryStorage, type RaftLogger, type ReadState, type Ready,
} from '@deimos/raft';
import { DurableState } from './durable-state.js';
import { KvMachine } from './kv-machine.js';
import type { SimRng } from './rng.js';
import { check } from './violation.js';

/** Raft and application knobs of a node, chosen per run. */
export interface NodeTuning {
  electionTicks: number;
  heartbeatTicks: number;
  checkQuorum: boolean;
  preVote: boolean;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  maxUncommittedEntriesSize: number;
  maxCommittedSizePerReady: number;
  /** Make a snapshot and compact once this many entries were applied since the last snapshot. */
  snapshotEveryEntries: number;
  /** Entries kept in memory behind a new snapshot (so some followers catch up without one). */
  snapshotKeepEntries: number;
  /** As the Ready contract allows, a leader sends its messages before persisting its own entries. */
  leaderSendsBeforePersist: boolean;
  /** A deliberate bug in the simulated server, to prove the checker notices (tests of the simulator only). */
  sabotage?: Sabotage;
}

/**
 * Deliberate server bugs: `forget-vote` loses the vote on every crash; `ack-before-persist` makes
 * followers send their acknowledgements before their entries are durable; `serve-reads-early`
 * answers a read as soon as its ReadState arrives instead of once the read index is applied.
 */
export type Sabotage = 'forget-vote' | 'ack-before-persist' | 'serve-reads-early';

/** Where inside a Ready cycle a node may crash. */
export type CrashPoint = 'before-persist' | 'after-persist' | 'after-send' | 'after-apply';

/** What a node reports to the invariant checker as it goes. */
export interface NodeObserver {
  becameLeader(node: SimNode, term: number): void;
  leaderLogDurable(node: SimNode, term: number): void;
  entriesPersisted(node: SimNode, entries: readonly Entry[], removed: readonly Entry[]): void;
  hardStatePersisted(node: SimNode, prev: HardState, next: HardState): void;
  snapshotPersisted(node: SimNode, snap: Snapshot, removed: readonly Entry[]): void;
  snapshotInstalled(node: SimNode, snap: Snapshot, kv: KvMachine, appliedBefore: number): void;
  snapshotCreated(node: SimNode, snap: Snapshot, kv: KvMachine): void;
  entryApplied(node: SimNode, entry: Entry, kv: KvMachine): void;
  confChangeApplied(node: SimNode, cc: ConfChange, index: number, confState: ConfState): void;
  readStateReceived(node: SimNode, rs: ReadState, readId: number): void;
  readServed(node: SimNode, readId: number, key: string, value: string | undefined, appliedIndex: number): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A raft node with durable state that survives crashes; the RawNode and MemoryStorage do not. */
export class SimNode {
  readonly durable: DurableState;
  raw: RawNode | undefined;
  storage: MemoryStorage | undefined;
  kv = new KvMachine();
  confState: ConfState = { voters: [], learners: [] };
  lead: NodeId = NONE;
  raftState: StateType = StateType.Follower;
  /** Set once the node applied its own removal (the cluster then stops it for good). */
  removed = false;
  restarts = 0;
  private pendingReads = new Map<string, { id: number; key: string }>();
  private servableReads: Array<{ index: number; id: number; key: string }> = [];

  constructor(
    readonly id: NodeId,
    bootstrapConf: ConfState | undefined,
    private readonly tuning: NodeTuning,
    private readonly rng: SimRng,
    private readonly observer: NodeObserver,
    private readonly logger?: RaftLogger,
  ) {
    this.durable = new DurableState(bootstrapConf);
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.raw !== undefined;
  }

  /** Last applied index of the running process. */
  get applied(): number {
    return this.kv.index;
  }

  /** True when the running node believes it leads. */
  get isLeader(): boolean {
    return this.raftState === StateType.Leader;
  }

  /** Starts (or restarts) the process from durable state only. */
  start(): void {
    if (this.raw !== undefined) throw new Error(`node ${this.id} is already running`);
    const storage = this.durable.buildStorage();
    const snap = this.durable.snapshot;
    const snapIndex = this.durable.snapshotIndex();
    this.kv = KvMachine.fromSnapshotData(snap?.data ?? EMPTY_BYTES, snapIndex);
    this.confState = storage.initialState().confState;
    this.lead = NONE;
    this.raftState = StateType.Follower;
    this.storage = storage;
    const t = this.tuning;
    this.raw = new RawNode({
      id: this.id,
      electionTicks: t.electionTicks,
      heartbeatTicks: t.heartbeatTicks,
      storage,
      rng: this.rng.fork(),
      applied: snapIndex,
      maxSizePerMsg: t.maxSizePerMsg,
      maxInflightMsgs: t.maxInflightMsgs,
      maxUncommittedEntriesSize: t.maxUncommittedEntriesSize,
      maxCommittedSizePerReady: t.maxCommittedSizePerReady,
      checkQuorum: t.checkQuorum,
      preVote: t.preVote,
      ...(this.logger !== undefined ? { logger: this.logger } : {}),
    });
  }

  /** Kills the process: the RawNode, MemoryStorage, state machine and pending reads are gone. */
  crash(): void {
    this.raw = undefined;
    this.storage = undefined;
    this.pendingReads.clear();
    this.servableReads = [];
    this.lead = NONE;
    this.raftState = StateType.Follower;
    this.restarts++;
    if (this.tuning.sabotage === 'forget-vote') this.durable.hardState = { ...this.durable.hardState, vote: NONE };
  }

  /** The running RawNode; throws when the node is down. */
  node(): RawNode {
    if (this.raw === undefined) throw new Error(`node ${this.id} is down`);
    return this.raw;
  }

  /** Asks for a linearizable read of `key`; the answer is checked when it is served. */
  requestRead(readId: number, key: string): void {
    const ctx = `r${readId}`;
    this.pendingReads.set(ctx, { id: readId, key });
    this.node().readIndex(encoder.encode(ctx));
  }

  /**
   * Runs one Ready cycle. When `crashPoint` names a point for this Ready, the process dies there
   * (the caller then calls {@link crash}); returns false in that case.
   */
  handleReady(
    send: (msgs: readonly Message[]) => void,
    crashPoint?: (rd: Ready) => CrashPoint | undefined,
  ): boolean {
    const raw = this.node();
    const rd = raw.ready();
    const crashAt = crashPoint?.(rd);
    this.checkReadyContract(rd);
    const term = rd.hardState?.term ?? this.durable.hardState.term;
    let becameLeader = false;
    if (rd.softState !== undefined) {
      const wasLeader = this.isLeader;
      this.lead = rd.softState.lead;
      this.raftState = rd.softState.raftState;
      becameLeader = this.isLeader && !wasLeader;
      if (becameLeader) this.observer.becameLeader(this, term);
    }
    const early = (this.isLeader && this.tuning.leaderSendsBeforePersist) || this.tuning.sabotage === 'ack-before-persist';
    if (early) send(rd.messages);
    if (crashAt === 'before-persist') return false;
    this.persist(rd);
    if (becameLeader) this.observer.leaderLogDurable(this, term);
    if (crashAt === 'after-persist') return false;
    if (!early) send(rd.messages);
    if (crashAt === 'after-send') return false;
    this.install(rd.snapshot);
    for (const e of rd.committedEntries) this.apply(e);
    this.collectReadStates(rd.readStates);
    if (crashAt === 'after-apply') return false;
    raw.advance();
    this.maybeSnapshot();
    this.serveReads();
    return true;
  }

  /** What the server relies on: it may skip the fsync when `mustSync` is false, and applies in order. */
  private checkReadyContract(rd: Ready): void {
    const hs = rd.hardState;
    const prev = this.durable.hardState;
    const needsSync = rd.entries.length > 0 || (hs !== undefined && (hs.term !== prev.term || hs.vote !== prev.vote));
    check(!needsSync || rd.mustSync, 'ready-contract',
      () => `node ${this.id} got a Ready with ${rd.entries.length} entries and hard state ${JSON.stringify(hs)} but mustSync false`);
    const first = rd.committedEntries[0];
    const base = rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot) ? rd.snapshot.metadata.index : this.kv.index;
    check(first === undefined || first.index === base + 1, 'apply-order',
      () => `node ${this.id} at applied ${base} got committed entries from ${first!.index}`);
    for (let i = 1; i < rd.committedEntries.length; i++) {
      check(rd.committedEntries[i]!.index === rd.committedEntries[i - 1]!.index + 1, 'apply-order',
        () => `node ${this.id} got non-contiguous committed entries`);
    }
  }

  private persist(rd: Ready): void {
    const storage = this.storage!;
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      const removed = this.durable.applySnapshot(rd.snapshot);
      storage.applySnapshot(rd.snapshot);
      this.observer.snapshotPersisted(this, rd.snapshot, removed);
    }
    if (rd.entries.length > 0) {
      const removed = this.durable.append(rd.entries);
      storage.append(rd.entries);
      this.observer.entriesPersisted(this, rd.entries, removed);
    }
    if (rd.hardState !== undefined) {
      const prev = this.durable.hardState;
      this.durable.hardState = { ...rd.hardState };
      storage.setHardState(rd.hardState);
      this.observer.hardStatePersisted(this, prev, rd.hardState);
    }
  }

  private install(snap: Snapshot | undefined): void {
    if (snap === undefined || isEmptySnapshot(snap)) return;
    const before = this.kv.index;
    this.kv = KvMachine.fromSnapshotData(snap.data, snap.metadata.index);
    this.confState = snap.metadata.confState;
    this.observer.snapshotInstalled(this, snap, this.kv, before);
  }

  private apply(e: Entry): void {
    this.kv.apply(e);
    this.observer.entryApplied(this, e, this.kv);
    if (e.type === EntryType.ConfChange && e.data.length > 0) {
      const cc = confChangeFromBytes(e.data);
      this.confState = this.node().applyConfChange(cc);
      this.observer.confChangeApplied(this, cc, e.index, this.confState);
    }
  }

  private collectReadStates(readStates: readonly ReadState[]): void {
    for (const rs of readStates) {
      const ctx = decoder.decode(rs.requestCtx);
      const pending = this.pendingReads.get(ctx);
      if (pending === undefined) continue;
      this.pendingReads.delete(ctx);
      this.observer.readStateReceived(this, rs, pending.id);
      this.servableReads.push({ index: rs.index, id: pending.id, key: pending.key });
    }
  }

  private serveReads(): void {
    if (this.servableReads.length === 0) return;
    const waiting: typeof this.servableReads = [];
    for (const r of this.servableReads) {
      if (r.index > this.kv.index && this.tuning.sabotage !== 'serve-reads-early') waiting.push(r);
      else this.observer.readServed(this, r.id, r.key, this.kv.map.get(r.key), this.kv.index);
    }
    this.servableReads = waiting;
  }

  private maybeSnapshot(): void {
    const storage = this.storage!;
    const snapIndex = storage.snapshot().metadata.index;
    if (this.kv.index - snapIndex < this.tuning.snapshotEveryEntries) return;
    const snap = storage.createSnapshot(this.kv.index, this.confState, this.kv.toSnapshotData());
    const compactTo = this.kv.index - this.tuning.snapshotKeepEntries;
    if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    this.durable.compact(snap);
    this.observer.snapshotCreated(this, snap, this.kv);
  }
}
