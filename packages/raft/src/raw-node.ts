/** The application-facing node: inputs go in through methods, outputs come out as {@link Ready}. */
import { coalesceAppends } from './coalesce-appends.js';
import {
  EntryType, MessageType, NONE, hardStateEqual, makeMessage,
  type ConfChange, type ConfState, type HardState, type Message, type NodeId,
} from '@deimos/protocol';
import {
  RaftError, SnapshotStatus, StateType,
  type ProgressStatus, type RaftConfig, type RaftNode, type Ready, type SoftState, type Status,
} from './api.js';
import { applyConfChange } from './apply-conf-change.js';
import { confChangeToBytes } from './conf-change-bytes.js';
import { Raft } from './raft.js';
import type { IndexTerm } from './raft-log.js';
import { isLocalMsg, isResponseMsg, max } from './util.js';

/** A message type that only the node itself may generate arrived through step(). */
export class StepLocalMessageError extends RaftError {
  constructor(type: MessageType) { super('ERR_STEP_LOCAL_MSG', `cannot step local message ${MessageType[type]}`); }
}

/**
 * A message from a peer that no correct member sends, refused before it changes anything: raft
 * trusts its peers (as etcd's does) and would otherwise fail an invariant on it, taking the whole
 * member down for one bad message.
 */
export class InvalidPeerMessageError extends RaftError {
  /**
   * A heartbeat of a current term whose commit index is past this log: its sender acknowledged
   * entries this log no longer has (or it is broken). See `peerMessageProblem`.
   */
  readonly commitPastLog: boolean;
  constructor(m: Message, why: string, commitPastLog = false) {
    super('ERR_INVALID_PEER_MSG', `refusing ${MessageType[m.type]} from ${m.from}: ${why}`);
    this.commitPastLog = commitPastLog;
  }
}

const COMMIT_PAST_LOG = (commit: number, lastIndex: number): string => `commit ${commit} is past this log (last ${lastIndex})`;

/** Why no correct peer would send `m` to a member whose log ends at `lastIndex`, or undefined. */
function peerMessageProblem(m: Message, localId: NodeId, term: number, lastIndex: number): string | undefined {
  if (m.from === localId) return 'it names this member as its sender';
  // Only proposals and read requests forwarded to a leader travel without a term (as in etcd).
  if (m.term === 0 && m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) return 'it carries no term';
  if (m.type === MessageType.MsgProp && m.entries.length === 0) return 'a proposal without entries';
  if (m.type === MessageType.MsgApp) {
    for (let i = 0; i < m.entries.length; i++) {
      if (m.entries[i]!.index !== m.index + 1 + i) return `entry ${i} has index ${m.entries[i]!.index}, not ${m.index + 1 + i}`;
    }
  }
  // Older terms are ignored by the core anyway (a log may have been cut back since).
  if (m.term < term) return undefined;
  // A leader sends a commit index no further than what the follower acknowledged having.
  if (m.type === MessageType.MsgHeartbeat && m.commit > lastIndex) return COMMIT_PAST_LOG(m.commit, lastIndex);
  // A follower acknowledges only what it was sent.
  if (m.type === MessageType.MsgAppResp && !m.reject && m.index > lastIndex) return `index ${m.index} is past this log (last ${lastIndex})`;
  return undefined;
}

/** What advance() acknowledges for one Ready. */
interface Handout {
  /** The last entry handed out for persisting, if any. */
  stable: IndexTerm | undefined;
  /** Index of the snapshot handed out for installing, or 0. */
  snapshotIndex: number;
  /** Index of the last committed entry handed out for applying, or 0. */
  applied: number;
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

/**
 * A raft node driven by the application: call tick() on a clock, step() with received messages,
 * and loop `while (hasReady()) { rd = ready(); persist; send; apply; advance(); }`.
 *
 * advance() acknowledges the oldest Ready not yet acknowledged: its entries and snapshot are
 * durable, its committed entries applied. Only then does a leader count its own log toward the
 * commit quorum, so the leader's messages may safely be sent before its own fsync. A caller may
 * take further Readies before acknowledging earlier ones (pipelining its disk writes), as long as
 * it acknowledges them in the order it took them.
 */
export class RawNode implements RaftNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** Readies handed out and not yet acknowledged, oldest first. */
  private readonly unacked: Handout[] = [];

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.MsgHup, from: this.raft.id }));
  }

  propose(data: Uint8Array): void {
    this.raft.step(makeMessage({
      type: MessageType.MsgProp, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data }],
    }));
  }

  proposeConfChange(cc: ConfChange): void {
    const data = confChangeToBytes(cc);
    this.raft.step(makeMessage({
      type: MessageType.MsgProp, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data }],
    }));
  }

  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this.raft, cc);
  }

  /** Steps a message from the network; responses from unknown peers are ignored. */
  /**
   * Steps a message from a peer. Throws {@link StepLocalMessageError} for a local-only type and
   * {@link InvalidPeerMessageError} for one no correct peer sends, in both cases having changed nothing.
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new StepLocalMessageError(m.type);
    const problem = peerMessageProblem(m, this.raft.id, this.raft.term, this.raft.raftLog.lastIndex());
    if (problem !== undefined) {
      throw new InvalidPeerMessageError(m, problem, problem === COMMIT_PAST_LOG(m.commit, this.raft.raftLog.lastIndex()));
    }
    if (isResponseMsg(m.type) && !this.raft.trk.progress.has(m.from)) return;
    this.raft.step(m);
  }

  readIndex(requestCtx: Uint8Array): void {
    this.raft.step(makeMessage({ type: MessageType.MsgReadIndex, from: this.raft.id, context: requestCtx }));
  }

  transferLeadership(transferee: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step(makeMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === SnapshotStatus.Failure }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const log = r.raftLog;
    return r.appendsDue
      || !softStateEqual(r.softState(), this.prevSoftState)
      || !hardStateEqual(r.hardState(), this.prevHardState)
      || log.unstable.snapshotToPersist() !== undefined
      || log.unstable.hasEntriesToPersist()
      || r.msgs.length > 0
      || r.readStates.length > 0
      || log.hasNextCommittedEntries();
  }

  ready(): Ready {
    const r = this.raft;
    const log = r.raftLog;
    r.flushDueAppends();
    const entries = log.unstable.entriesToPersist();
    const snapshot = log.unstable.snapshotToPersist();
    const committedEntries = log.nextCommittedEntries();
    const hard = r.hardState();
    const soft = r.softState();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries,
      messages: coalesceAppends(r.msgs, r.maxMsgSize),
      mustSync: entries.length > 0 || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    if (!softStateEqual(soft, this.prevSoftState)) rd.softState = soft;
    if (!hardStateEqual(hard, this.prevHardState)) rd.hardState = hard;
    if (snapshot !== undefined) rd.snapshot = snapshot;
    // Accept: everything in this Ready is now the application's job until advance().
    this.prevSoftState = soft;
    this.prevHardState = hard;
    r.msgs = [];
    r.readStates = [];
    log.unstable.acceptInProgress();
    const lastEntry = entries[entries.length - 1];
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      log.acceptApplying(lastCommitted.index);
      r.reduceUncommittedSize(committedEntries);
    }
    this.unacked.push({
      stable: lastEntry === undefined ? undefined : { index: lastEntry.index, term: lastEntry.term },
      snapshotIndex: snapshot === undefined ? 0 : snapshot.metadata.index,
      applied: lastCommitted === undefined ? 0 : lastCommitted.index,
    });
    return rd;
  }

  advance(): void {
    const r = this.raft;
    const log = r.raftLog;
    const handout = this.unacked.shift();
    if (handout === undefined) return;
    if (handout.snapshotIndex > 0) {
      log.unstable.stableSnapTo(handout.snapshotIndex);
      // The snapshot was installed into the state machine.
      log.applied = max(log.applied, handout.snapshotIndex);
      log.applying = max(log.applying, handout.snapshotIndex);
    }
    if (handout.stable !== undefined) {
      // Ignored when the entry was since replaced (a new leader overwrote the tail meanwhile).
      log.unstable.stableTo(handout.stable.index, handout.stable.term);
      r.onPersisted(handout.stable.index, handout.stable.term);
    }
    if (handout.applied > log.applied) log.appliedTo(handout.applied);
  }

  softState(): SoftState {
    return this.raft.softState();
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.state === StateType.Leader) {
      for (const [id, pr] of r.trk.progress) progress.set(id, pr.toStatus());
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      progress,
      confState: r.trk.confState(),
    };
  }

  /** The underlying state machine, for white-box tests and the simulator's invariant checks. */
  get raftForTesting(): Raft {
    return this.raft;
  }

  /** The node's ID. */
  get id(): NodeId {
    return this.raft.id;
  }

  /** True when the node believes it is the leader. */
  get isLeader(): boolean {
    return this.raft.state === StateType.Leader && this.raft.lead !== NONE;
  }
}
