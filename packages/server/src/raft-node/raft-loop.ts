/**
 * The one loop around the consensus core: it ticks the core, and for every Ready writes entries to
 * the WAL, sends messages (a leader before its own fsync, others after), installs snapshots,
 * applies committed entries to the state machine in one transaction, serves batched linearizable
 * reads, and calls advance() once the Ready is durable. Everything the core does happens here, on
 * the event loop, so no locking is needed.
 *
 * The fsync runs off the event loop (see ready-pipeline.ts): while it does, the loop keeps stepping
 * messages and proposals into the core and may take a few more Readies (a leader sends their
 * appends at once); one later fsync covers them all (group commit), and Readies are acknowledged
 * in order once durable. Committed entries are applied without waiting for the local fsync: they
 * are durable on a quorum already (a leader counts itself only after advance()).
 *
 * A full disk does not end the loop: a Ready whose entries, hard state or snapshot found no room is
 * held (not acknowledged, its held-back messages not sent, its committed entries not applied) and
 * no further Ready is taken until {@link RaftLoop.retryHeld} persisted it. The core meanwhile only
 * sees this member as slow: a leader does not count itself for entries it could not write.
 */
import type { ConfState, Entry, HardState, Message, NodeId, Snapshot } from '@deimos/protocol';
import { MessageType, NONE } from '@deimos/protocol';
import { StateType, type RaftNode, type Ready, type ReadState, type SoftState, type Status } from '@deimos/raft';
import { isNoSpaceError } from '../util/no-space.js';
import { ReadyPipeline } from './ready-pipeline.js';
import { RequestTimeoutError } from './wait-registry.js';

/**
 * Readies taken but not yet durable, at most. Alone, a member commits only once its own fsync is
 * done, so taking few Readies meanwhile just makes the next batch bigger (less work per entry). With
 * peers, a quorum of followers can commit entries while the leader's own fsync runs; a leader that
 * stopped taking Readies would apply them and answer clients only after its fsync, and would hold
 * back its next appends: measured on 3 members here, 64 gave 1.1-1.9x the write throughput of 4.
 */
const MAX_PENDING_READIES_ALONE = 4;
const MAX_PENDING_READIES_WITH_PEERS = 64;
/**
 * WAL fsyncs running at once. Measured here (write + fdatasync loops on the one disk): two at a time
 * made 1.5-4x more durable batches per second than one, three no better than two; single-member
 * writes at 64 clients were faster with two in 3 of 4 alternating runs.
 */
const CONCURRENT_FSYNCS = 2;
/**
 * A read round not answered this long is asked again. The ReadIndex request or its answer can be
 * lost without any change of leader (a peer stream that broke and reconnected); etcd asks again
 * after 500 ms too. An answer to the older round is then ignored.
 */
const READ_RETRY_MS = 500;

/** Durable log writes (the WAL). */
export interface LogPersistence {
  /**
   * Appends entries and the hard state; with `sync` one fsync, without it only written. Throws a
   * no-space error, leaving the log unchanged, when the disk has no room (the loop retries it).
   */
  save(hardState: HardState | undefined, entries: Entry[], options: { sync: boolean }): void;
  /** Makes everything saved so far durable without blocking; `done` gets the error if that failed. */
  syncAsync(done: (err?: Error) => void): void;
  /** Records that a snapshot covers everything up to `snapshot.metadata.index`. */
  saveSnapshot(snapshot: Snapshot): void;
}

/** The in-memory mirror of the durable log that the core reads (raft's MemoryStorage). */
export interface LogMirror {
  append(entries: Entry[]): void;
  setHardState(hs: HardState): void;
  applySnapshot(snapshot: Snapshot): void;
}

/** Where committed entries go. */
export interface StateMachine {
  /** Applies a batch of committed entries atomically; returns nothing, wakes waiters itself. */
  applyEntries(entries: Entry[]): void;
  /** Replaces the whole state with a snapshot received from the leader. */
  restoreSnapshot(snapshot: Snapshot): void;
}

/** Outgoing peer messages. */
export interface MessageSender {
  send(messages: Message[]): void;
}

/** Called when the soft state changes (leader elected, lost, ...). */
export type SoftStateListener = (state: SoftState) => void;

/** A linearizable read waiting for its round. */
interface PendingRead {
  settle(index: number): void;
  /** Ends it with `err` (the member is stopping). */
  fail(err: Error): void;
  /** True once it was answered or timed out. */
  settled(): boolean;
}

interface ReadRound {
  /** Resolvers of the reads this round serves. */
  readers: PendingRead[];
  /** The read index once the leader answered, or -1. */
  index: number;
  /** The loop's tick count when this round was asked. */
  askedAt: number;
}

/** Options of the loop. */
export interface RaftLoopOptions {
  node: RaftNode;
  log: LogPersistence;
  mirror: LogMirror;
  stateMachine: StateMachine;
  sender: MessageSender;
  tickMs: number;
  /** Index applied before the loop started (from the state database). */
  appliedIndex: number;
  onSoftState?: SoftStateListener;
  /** Called after each batch was applied, with the new applied index. */
  onApplied?: (appliedIndex: number) => void;
  /** Whether other members exist (see MAX_PENDING_READIES_WITH_PEERS); default false. */
  hasPeers?: () => boolean;
  /** A Ready could not be persisted for lack of disk space and is held (see the module comment). */
  onNoSpace?: (err: Error) => void;
}

/** A Ready taken from the core, and how far persisting it got (a retry resumes there). */
interface ReadyWork {
  rd: Ready;
  /** Its messages were sent before persisting (a leader's). */
  sentFirst: boolean;
  /** It carries a snapshot to install. */
  installed: boolean;
  restored: boolean;
  markerSaved: boolean;
}

/** Drives a {@link RaftNode}; see the module comment. */
export class RaftLoop {
  private readonly node: RaftNode;
  private scheduled = false;
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  private applied: number;
  private soft: SoftState = { lead: NONE, raftState: StateType.Follower };
  private term = 0;
  private commit = 0;
  private queuedReads: PendingRead[] = [];
  private readonly rounds = new Map<string, ReadRound>();
  private readonly pipeline: ReadyPipeline;
  private readonly waitingApply: ReadRound[] = [];
  private roundSeq = 0;
  private ticks = 0;
  /** A leader's appends without entries, sent at the end of the turn (see sendLeaderMessages). */
  private deferred: Message[] = [];
  private deferredScheduled = false;
  /** The Ready that found no disk space, waiting for {@link retryHeld}. */
  private held: ReadyWork | undefined;

  constructor(private readonly opts: RaftLoopOptions) {
    this.node = opts.node;
    this.applied = opts.appliedIndex;
    this.pipeline = new ReadyPipeline({
      sync: (done) => opts.log.syncAsync(done),
      acknowledge: (messages) => {
        opts.sender.send(messages);
        this.node.advance();
      },
      onProgress: () => this.schedule(),
    }, CONCURRENT_FSYNCS);
  }

  /** Starts ticking. */
  start(): void {
    const retryTicks = Math.max(1, Math.ceil(READ_RETRY_MS / this.opts.tickMs));
    this.ticker = setInterval(() => {
      this.ticks++;
      this.node.tick();
      this.reaskRounds(retryTicks);
      this.schedule();
    }, this.opts.tickMs);
    this.schedule();
  }

  /** Stops ticking and processing; pending reads fail. */
  stop(): void {
    this.stopped = true;
    this.pipeline.stop();
    if (this.ticker) clearInterval(this.ticker);
    for (const round of [...this.rounds.values(), ...this.waitingApply]) round.readers.length = 0;
    this.queuedReads = [];
  }

  /**
   * Tries again to persist the Ready held for lack of disk space, then takes the next ones.
   * Returns true when none is held any more; throws only what is not a full disk.
   */
  retryHeld(): boolean {
    const work = this.held;
    if (work === undefined || this.stopped) return true;
    this.held = undefined;
    this.handleReady(work);
    if (this.held !== undefined) return false;
    this.schedule();
    return true;
  }

  /** True while a Ready waits for disk space. */
  get holdingReady(): boolean {
    return this.held !== undefined;
  }

  /** The index of the last applied entry. */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The current leader (NONE when unknown) and role. */
  get softState(): SoftState {
    return this.soft;
  }

  /** The current term as last persisted. */
  get currentTerm(): number {
    return this.term;
  }

  /** Ends every read still waiting with `err` (the member is stopping: they are answered, not cut). */
  failReads(err: Error): void {
    for (const r of this.queuedReads) r.fail(err);
    for (const round of [...this.rounds.values(), ...this.waitingApply]) for (const r of round.readers) r.fail(err);
  }

  /** Reads held for a round (queued or asked), settled ones included: what the loop keeps in memory. */
  get heldReads(): number {
    let n = this.queuedReads.length;
    for (const round of this.rounds.values()) n += round.readers.length;
    return n;
  }

  /** The commit index as last persisted with the hard state. */
  get commitIndex(): number {
    return this.commit;
  }

  /** True when this member is the leader. */
  get isLeader(): boolean {
    return this.soft.raftState === StateType.Leader;
  }

  /** The core's status (for /debug/vars): a read, nothing to process after it. */
  status(): Status {
    return this.node.status();
  }

  /** Runs `fn` against the core (propose, step, ...) and schedules processing of what it produced. */
  withNode<T>(fn: (node: RaftNode) => T): T {
    const result = fn(this.node);
    this.schedule();
    return result;
  }

  /**
   * Waits until a linearizable read may be served: a read index confirmed by a quorum after this
   * call, and applied locally. Reads arriving together share one ReadIndex round.
   */
  linearizableRead(timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(new RequestTimeoutError());
      }, timeoutMs);
      this.queuedReads.push({
        settle: (index) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(index);
        },
        fail: (err) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          reject(err);
        },
        settled: () => done,
      });
      this.schedule();
    });
  }

  /** Schedules one processing pass on the event loop (coalesced). */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.process();
    });
  }

  private startReadRound(): void {
    if (this.queuedReads.length === 0) return;
    const ctx = `r${++this.roundSeq}`;
    this.rounds.set(ctx, { readers: this.queuedReads, index: -1, askedAt: this.ticks });
    this.queuedReads = [];
    this.node.readIndex(new TextEncoder().encode(ctx));
  }

  private process(): void {
    // A held Ready keeps the next ones (and the role changes they carry) back: a leader whose disk
    // is full steps down in the core meanwhile, and must not go on saying it leads.
    if (this.held !== undefined) this.noteSoftState(this.node.softState());
    this.startReadRound();
    const maxPending = this.opts.hasPeers?.() === true ? MAX_PENDING_READIES_WITH_PEERS : MAX_PENDING_READIES_ALONE;
    while (this.held === undefined && this.pipeline.size < maxPending && this.node.hasReady()) {
      const rd = this.node.ready();
      if (rd.softState) this.noteSoftState(rd.softState);
      if (rd.hardState) {
        this.term = rd.hardState.term;
        this.commit = rd.hardState.commit;
      }
      // A leader may send appends before its own fsync: followers persist before acknowledging,
      // and the leader counts itself only after advance().
      const sentFirst = this.isLeader;
      if (sentFirst) this.sendLeaderMessages(rd.messages);
      const installed = rd.snapshot !== undefined && rd.snapshot.metadata.index > 0;
      this.handleReady({ rd, sentFirst, installed, restored: false, markerSaved: false });
    }
    this.releaseAppliedReads();
  }

  /** Takes a change of leader or role (once: a held Ready's may have been taken from the core before). */
  private noteSoftState(soft: SoftState): void {
    if (soft.lead === this.soft.lead && soft.raftState === this.soft.raftState) return;
    this.soft = soft;
    this.opts.onSoftState?.(soft);
    // Rounds asked before a change of leader or role were sent to a former leader or dropped
    // by a candidate (a member that wins an election would otherwise never answer them).
    this.reaskRounds(0);
  }

  /**
   * A leader's appends that carry entries go at once: they are on the way to commit of every write
   * in them. Appends without entries (the new commit index, probes) wait for the end of the turn, so
   * the answers that this Ready's apply produces reach their clients (and client workers) first
   * instead of after a socket write to every follower.
   */
  private sendLeaderMessages(messages: Message[]): void {
    let now: Message[] | undefined;
    for (const m of messages) {
      if (m.type === MessageType.MsgApp && m.entries.length === 0) this.deferred.push(m);
      else (now ??= []).push(m);
    }
    if (now !== undefined) this.opts.sender.send(now);
    if (this.deferred.length === 0 || this.deferredScheduled) return;
    this.deferredScheduled = true;
    setImmediate(() => {
      this.deferredScheduled = false;
      const due = this.deferred;
      this.deferred = [];
      if (!this.stopped) this.opts.sender.send(due);
    });
  }

  /** Persists a Ready, then mirrors, applies and queues it for acknowledgement; holds it when the disk is full. */
  private handleReady(work: ReadyWork): void {
    const rd = work.rd;
    try {
      this.persist(work);
    } catch (err) {
      if (!isNoSpaceError(err)) throw err;
      this.held = work;
      this.opts.onNoSpace?.(err as Error);
      return;
    }
    if (rd.entries.length > 0) this.opts.mirror.append(rd.entries);
    if (rd.hardState) this.opts.mirror.setHardState(rd.hardState);
    this.apply(rd.committedEntries);
    this.collectReadStates(rd.readStates);
    this.pipeline.push(rd.mustSync || work.installed, work.sentFirst ? [] : rd.messages);
  }

  /** The disk writes of a Ready, each step done once (a step that found no room throws and is retried). */
  private persist(work: ReadyWork): void {
    const rd = work.rd;
    if (work.installed) {
      // State first, then the WAL marker: a crash in between leaves an old marker and a newer
      // database, whose entries are skipped on replay; the reverse order would lose entries.
      if (!work.restored) {
        this.opts.stateMachine.restoreSnapshot(rd.snapshot!);
        work.restored = true;
      }
      if (!work.markerSaved) {
        this.opts.log.saveSnapshot(rd.snapshot!);
        this.opts.mirror.applySnapshot(rd.snapshot!);
        this.applied = Math.max(this.applied, rd.snapshot!.metadata.index);
        work.markerSaved = true;
      }
    }
    // A save without room leaves the log as it was (WalNoSpaceError), so it is simply retried.
    if (rd.hardState || rd.entries.length > 0) this.opts.log.save(rd.hardState, rd.entries, { sync: false });
  }

  private apply(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.opts.stateMachine.applyEntries(entries);
    this.applied = entries[entries.length - 1]!.index;
    this.opts.onApplied?.(this.applied);
  }

  private collectReadStates(states: ReadState[]): void {
    for (const rs of states) {
      const ctx = new TextDecoder().decode(rs.requestCtx);
      const round = this.rounds.get(ctx);
      if (!round) continue;
      this.rounds.delete(ctx);
      round.index = rs.index;
      this.waitingApply.push(round);
    }
  }

  private releaseAppliedReads(): void {
    if (this.waitingApply.length === 0) return;
    const still: ReadRound[] = [];
    for (const round of this.waitingApply) {
      if (round.index <= this.applied) for (const r of round.readers) r.settle(round.index);
      else still.push(round);
    }
    this.waitingApply.length = 0;
    this.waitingApply.push(...still);
  }

  /** The reads of rounds asked at least `ageTicks` ago go into the next round. */
  private reaskRounds(ageTicks: number): void {
    for (const [ctx, round] of this.rounds) {
      if (this.ticks - round.askedAt < ageTicks) continue;
      // Reads that timed out meanwhile are dropped, so a long outage holds only the live ones.
      for (const r of round.readers) if (!r.settled()) this.queuedReads.push(r);
      this.rounds.delete(ctx);
    }
    if (this.queuedReads.length > 0) this.schedule();
  }
}

/** Re-exported for callers that only need the type of a member ID. */
export type { NodeId, ConfState };
