/**
 * The raft state machine: terms, roles, elections and message stepping. Role-specific handling
 * lives in step-leader.ts, step-candidate.ts and step-follower.ts; elections in election.ts;
 * sending in leader-send.ts.
 *
 * Persistence model: the application persists `Ready.entries`/`hardState` before sending the
 * messages of a follower or candidate. A leader may send MsgApp before its own write, so it counts
 * its own log toward the commit quorum only for entries reported durable through `advance()`
 * ({@link Raft.onPersisted}), never at append time.
 */
import {
  EMPTY_BYTES, EntryType, MessageType, NONE, isEmptyHardState, makeMessage,
  type Entry, type HardState, type Message, type NodeId, type Snapshot,
} from '@deimos/protocol';
import { ProposalDroppedError, StateType, type RaftConfig, type RaftLogger, type ReadState, type Rng, type SoftState } from './api.js';
import { bcastAppend, maybeSendAppend } from './leader-send.js';
import { ProgressTracker } from './progress-tracker.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import { releasePendingReadIndexMessages, stepLeader } from './step-leader.js';
import { stepCandidate } from './step-candidate.js';
import { stepFollower } from './step-follower.js';
import { CAMPAIGN_TRANSFER_CONTEXT, CampaignType, handleVoteRequest, hup } from './election.js';
import { assert, bytesEqual, max, payloadSize } from './util.js';

const DEFAULT_MAX_SIZE_PER_MSG = 1024 * 1024;
const DEFAULT_MAX_INFLIGHT_MSGS = 256;

export { CampaignType } from './election.js';

/** One raft peer's complete volatile and persistent state. */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state = StateType.Follower;
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  /** Outgoing messages, drained by each Ready. */
  msgs: Message[] = [];
  /** Proposals were appended since the last Ready: followers are sent them then, in one MsgApp each. */
  appendsDue = false;
  /** Servable reads, drained by each Ready. */
  readStates: ReadState[] = [];
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change proposed by this leader; another may be proposed once it is applied. */
  pendingConfIndex = 0;
  /** Payload bytes of uncommitted entries appended by this leader. */
  uncommittedSize = 0;
  readOnly = new ReadOnly();
  /** Reads received before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly disableProposalForwarding: boolean;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly logger: RaftLogger | undefined;
  private readonly rng: Rng;

  constructor(c: RaftConfig) {
    assert(c.id !== NONE, 'raft id must not be NONE');
    assert(c.heartbeatTicks > 0, 'heartbeatTicks must be positive');
    assert(c.electionTicks > c.heartbeatTicks, 'electionTicks must exceed heartbeatTicks');
    this.id = c.id;
    this.electionTimeout = c.electionTicks;
    this.heartbeatTimeout = c.heartbeatTicks;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.maxMsgSize = c.maxSizePerMsg ?? DEFAULT_MAX_SIZE_PER_MSG;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? Number.POSITIVE_INFINITY;
    this.logger = c.logger;
    this.rng = c.rng;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? Number.POSITIVE_INFINITY);
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT_MSGS);
    const { hardState, confState } = c.storage.initialState();
    this.trk.applyConfState(confState, this.raftLog.lastIndex() + 1);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    const log = this.raftLog;
    assert(hs.commit <= log.lastIndex(), () => `hard state commit ${hs.commit} is past last index ${log.lastIndex()}`);
    log.committed = max(hs.commit, log.committed);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Sends the appends that proposals made due since the last Ready (see {@link appendsDue}). */
  flushDueAppends(): void {
    if (!this.appendsDue) return;
    this.appendsDue = false;
    if (this.state !== StateType.Leader) return;
    for (const id of this.trk.progress.keys()) {
      if (id !== this.id) maybeSendAppend(this, id, false);
    }
  }

  /** Queues a message; stamps `from` (unless forwarding someone else's) and (except for votes and local forwards) the current term. */
  send(fields: Partial<Message> & Pick<Message, 'type' | 'to'>): void {
    const m = makeMessage(fields);
    if (m.from === undefined || m.from === NONE) m.from = this.id;
    const t = m.type;
    if (t === MessageType.MsgVote || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp) {
      assert(m.term !== 0, () => `term should be set when sending ${MessageType[t]}`);
    } else {
      assert(m.term === 0, () => `term should not be set when sending ${MessageType[t]}`);
      // Proposals and read requests forwarded to the leader are local to it: no term.
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    assert(m.to !== this.id, () => `sending ${MessageType[t]} to self`);
    this.msgs.push(m);
  }

  /** A voter with no snapshot waiting to be installed may campaign. */
  promotable(): boolean {
    return this.trk.voters.has(this.id) && !this.raftLog.hasPendingSnapshot();
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rng.nextInt(this.electionTimeout);
    assert(this.randomizedElectionTimeout >= this.electionTimeout && this.randomizedElectionTimeout < 2 * this.electionTimeout,
      'rng.nextInt returned a value out of range');
  }

  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, () => `term going backwards: ${this.term} -> ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    this.trk.resetProgress(this.raftLog.lastIndex() + 1, this.id, this.raftLog.stableLastIndex());
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.appendsDue = false;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger?.debug(`${this.id} became follower at term ${term}, leader ${lead}`);
  }

  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger?.debug(`${this.id} became candidate at term ${this.term}`);
  }

  /** Pre-candidates keep their term and vote: a failed pre-election disturbs no one. */
  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger?.debug(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id);
    assert(self !== undefined, 'leader is not in its own configuration');
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively assume an unapplied conf change may be in the log we inherited.
    this.pendingConfIndex = this.raftLog.lastIndex();
    const ok = this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
    assert(ok, 'empty entry was dropped');
    this.logger?.info(`${this.id} became leader at term ${this.term}`);
  }

  /** Appends entries at the end of the leader's log; false when the uncommitted size limit refuses them. */
  appendEntry(ents: Entry[]): boolean {
    const size = payloadSize(ents);
    if (this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.maxUncommittedSize) return false;
    this.uncommittedSize += size;
    let index = this.raftLog.lastIndex();
    for (const e of ents) {
      index++;
      e.term = this.term;
      e.index = index;
    }
    this.raftLog.append(ents);
    return true;
  }

  /** Committed entries were handed to the application: their bytes no longer count as uncommitted. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.state !== StateType.Leader) return;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - payloadSize(ents));
  }

  /** The application made the log durable up to (`index`, `term`); the leader counts itself now. */
  onPersisted(index: number, term: number): void {
    if (this.state !== StateType.Leader || !this.raftLog.matchTerm(index, term)) return;
    const self = this.trk.progress.get(this.id);
    if (self === undefined || !self.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      releasePendingReadIndexMessages(this);
      bcastAppend(this);
    }
  }

  /** Advances the commit index to what a quorum has (current-term entries only); true if it moved. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  /** Feeds a message (from the network or local) into the state machine. */
  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.MsgHup:
        hup(this, this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        handleVoteRequest(this, m);
        return;
      default:
        if (this.state === StateType.Leader) stepLeader(this, m);
        else if (this.state === StateType.Follower) stepFollower(this, m);
        else stepCandidate(this, m);
    }
  }

  /** Returns false when the message must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER_CONTEXT);
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      if (!force && inLease) {
        // We heard from a leader within the minimum election timeout: do not let a
        // partitioned or lagging node depose it.
        this.logger?.debug(`${this.id} ignored ${MessageType[m.type]} from ${m.from} at term ${m.term}: lease is not expired`);
        return false;
      }
    }
    if (m.type === MessageType.MsgPreVote) return true; // never change our term for a pre-vote
    if (m.type === MessageType.MsgPreVoteResp && !m.reject) return true; // term moves when the pre-election is won
    const fromLeader = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
      // A stale leader (e.g. after a partition) learns our term from this and steps down; without
      // it, pre-vote or check-quorum could leave it isolated forever.
      this.send({ type: MessageType.MsgAppResp, to: m.from });
    } else if (m.type === MessageType.MsgPreVote) {
      this.send({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true });
    } else {
      this.logger?.debug(`${this.id} ignored ${MessageType[m.type]} from ${m.from} with lower term ${m.term}`);
    }
  }

  /** Installs a leader's snapshot if it is news; true when the log was replaced. */
  restore(s: Snapshot): boolean {
    const { index, term } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.raftLog.matchTerm(index, term)) {
      // We already have the snapshot's entries: fast-forward the commit index instead.
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk.applyConfState(s.metadata.confState, this.raftLog.lastIndex() + 1);
    this.logger?.info(`${this.id} restored snapshot ${term}/${index}`);
    return true;
  }

  /** Throws for local proposals (the caller waits for nothing); forwarded ones are dropped quietly. */
  dropProposal(m: Message, reason: string): void {
    if (m.from === this.id || m.from === NONE) throw new ProposalDroppedError(reason);
    this.logger?.debug(`${this.id} dropped proposal from ${m.from}: ${reason}`);
  }
}
