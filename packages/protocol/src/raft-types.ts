/**
 * Raft wire and storage types shared by the consensus core, the server and the codec.
 *
 * Node IDs are 64-bit values written as lowercase hex strings without padding (as etcd prints
 * member IDs), so they are usable as map keys and survive JSON; the codec packs them into 8 bytes.
 * Terms and indexes are plain numbers: 2^53 entries is beyond any log this system will hold.
 */

/** A member ID: 64-bit value as lowercase hex without leading zeros; "0" means none. */
export type NodeId = string;

/** The ID meaning "no node" (no leader, no vote). */
export const NONE: NodeId = '0';

/** Kinds of raft messages, with stable numeric values used by the binary codec. */
export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

/** Kinds of log entries. */
export enum EntryType {
  /** Application data (empty data = the leader's no-op entry of a new term). */
  Normal = 0,
  /** A single-server membership change; data is an encoded {@link ConfChange}. */
  ConfChange = 1,
}

/** One log entry. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** Kinds of single-server membership changes. */
export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  /** Adds a non-voting member, or demotes a voter to a learner. */
  AddLearnerNode = 2,
  /** Changes nothing in the voter set; carries new member metadata in `context`. */
  UpdateNode = 3,
}

/** A membership change proposed through the log. `context` is opaque to raft (member JSON). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context: Uint8Array;
}

/** The voters and learners of a configuration. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** The state that must be durable before messages that depend on it are acknowledged. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** What a snapshot covers: everything up to and including `index` (of `term`). */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/** A state machine snapshot; `data` is opaque to raft. */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** A raft message between nodes (or a local input such as MsgHup). */
export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** Term of the entry at `index` (MsgApp), or of the last log entry (votes). */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** On a rejected MsgAppResp: the follower's hint for where to retry (fast back-off). */
  rejectHint: number;
  /** Opaque request context (ReadIndex request IDs, heartbeat read rounds, campaign kind). */
  context: Uint8Array;
}

/** An empty hard state (term 0, no vote, nothing committed). */
export const EMPTY_HARD_STATE: Readonly<HardState> = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/** True when the hard state carries nothing (a fresh node). */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

/** True when two hard states are equal field by field. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** True when the snapshot is the empty placeholder (index 0). */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** Builds a message with every field defaulted, so call sites only name what they set. */
export function makeMessage(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

/** A shared zero-length byte array (never mutate). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
