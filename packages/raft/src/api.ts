/**
 * The contract of the consensus core: configuration, storage, Ready and the RawNode surface.
 *
 * Everything here is synchronous and deterministic. Time is `tick()`, randomness is the injected
 * {@link Rng}, durability is the caller's job (persist `Ready.entries`/`hardState` before calling
 * `advance()`), and the network is the caller's job (deliver `Ready.messages`).
 */
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  Snapshot,
} from '@deimos/protocol';

/** A seeded source of randomness; `nextInt(n)` returns an integer in [0, n). */
export interface Rng {
  nextInt(n: number): number;
}

/** Synchronous read access to the durable log; the server backs it with its WAL. */
export interface Storage {
  /** Hard state and configuration saved at the last restart point. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exist, then up to `maxSizeBytes` of data in total. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of entry `i`; throws {@link CompactedError} below the first index, {@link UnavailableError} past the last. */
  term(i: number): number;
  /** Index of the last entry (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  /** The latest snapshot; throws {@link SnapshotTemporarilyUnavailableError} when it is being made. */
  snapshot(): Snapshot;
}

/** The role a node plays. */
export enum StateType {
  Follower = 'StateFollower',
  Candidate = 'StateCandidate',
  Leader = 'StateLeader',
  PreCandidate = 'StatePreCandidate',
}

/** Volatile state worth reporting: who leads and what we are. */
export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

/** A linearizable read point: `requestCtx` may be served once `index` is applied. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** Everything the caller must do now, in order: persist, send, install, apply; then advance(). */
export interface Ready {
  /** Present when soft state changed since the last Ready. */
  softState?: SoftState;
  /** Present when the hard state changed; persist with `entries` before sending messages that need it. */
  hardState?: HardState;
  /** Reads that became servable. */
  readStates: ReadState[];
  /** Entries to append to durable storage (may overwrite a conflicting tail). */
  entries: Entry[];
  /** A snapshot to persist and install before applying `committedEntries`. */
  snapshot?: Snapshot;
  /** Entries committed and ready to apply, in order. */
  committedEntries: Entry[];
  /** Messages to send. A leader may send these before its own fsync; others must persist first. */
  messages: Message[];
  /** True when `hardState`/`entries` must be fsynced before messages are sent. */
  mustSync: boolean;
}

/** Raft tuning and injected dependencies. */
export interface RaftConfig {
  id: NodeId;
  /** Ticks of silence before a follower campaigns; randomized in [electionTicks, 2*electionTicks). */
  electionTicks: number;
  /** Ticks between leader heartbeats; must be < electionTicks. */
  heartbeatTicks: number;
  storage: Storage;
  rng: Rng;
  /** Last applied index when restarting (entries up to it are not returned again). */
  applied?: number;
  /** Max bytes of entry data per MsgApp (at least one entry is always sent). */
  maxSizePerMsg?: number;
  /** Max MsgApp in flight per follower in replicate state. */
  maxInflightMsgs?: number;
  /** Max bytes of uncommitted entries the leader accepts before dropping proposals. */
  maxUncommittedEntriesSize?: number;
  /** Max bytes of committed entries returned in one Ready. */
  maxCommittedSizePerReady?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  /** Drop proposals on followers instead of forwarding to the leader. */
  disableProposalForwarding?: boolean;
  /** Optional diagnostic sink; the core never requires it. */
  logger?: RaftLogger;
}

/** Diagnostics sink (the core never writes to the console itself). */
export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

/** Snapshot delivery outcome reported back to the leader. */
export enum SnapshotStatus {
  Finish = 0,
  Failure = 1,
}

/** Progress states of a follower as seen by the leader. */
export enum ProgressState {
  Probe = 'StateProbe',
  Replicate = 'StateReplicate',
  Snapshot = 'StateSnapshot',
}

/** The leader's view of one follower. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
}

/** A point-in-time view of the node (for stats endpoints and tests). */
export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  /** Only on the leader: one entry per voter and learner, including itself. */
  progress: Map<NodeId, ProgressStatus>;
  confState: ConfState;
}

/** The RawNode-style surface of the core; see `RawNode` for the implementation. */
export interface RaftNode {
  tick(): void;
  campaign(): void;
  /** Appends data to the log (forwarded to the leader on followers); throws {@link ProposalDroppedError}. */
  propose(data: Uint8Array): void;
  /** Proposes a membership change; throws {@link ProposalDroppedError}. */
  proposeConfChange(cc: ConfChange): void;
  /** Applies a committed ConfChange entry; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState;
  step(m: Message): void;
  /** Requests a read index; the answer arrives as a ReadState carrying `requestCtx`. */
  readIndex(requestCtx: Uint8Array): void;
  transferLeadership(transferee: NodeId): void;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, status: SnapshotStatus): void;
  hasReady(): boolean;
  ready(): Ready;
  /**
   * Acknowledges the oldest Ready not yet acknowledged: its entries/snapshot are persisted and its
   * committed entries applied. Several Readies may be outstanding; they are acknowledged in order.
   */
  advance(): void;
  status(): Status;
  /** The current leader and role, as the next Ready would report them (without building a status). */
  softState(): SoftState;
}

/** Operational errors of the core, with stable codes. */
export class RaftError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'RaftError';
  }
}

/** The requested index is below the storage's first index. */
export class CompactedError extends RaftError {
  constructor() { super('ERR_COMPACTED', 'requested index is unavailable due to compaction'); }
}

/** The requested index is beyond the storage's last index. */
export class UnavailableError extends RaftError {
  constructor() { super('ERR_UNAVAILABLE', 'requested entry at index is unavailable'); }
}

/** The snapshot is being produced; retry later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() { super('ERR_SNAPSHOT_TEMPORARILY_UNAVAILABLE', 'snapshot is temporarily unavailable'); }
}

/** A snapshot older than the storage's current one was offered. */
export class SnapOutOfDateError extends RaftError {
  constructor() { super('ERR_SNAP_OUT_OF_DATE', 'requested index is older than the existing snapshot'); }
}

/** A proposal was dropped (no leader, leadership transfer, pending conf change, or size limit). */
export class ProposalDroppedError extends RaftError {
  constructor(reason: string) { super('ERR_PROPOSAL_DROPPED', `raft proposal dropped: ${reason}`); }
}
