/** How a leader talks to its followers: MsgApp, MsgSnap, heartbeats and MsgTimeoutNow. */
import { EMPTY_BYTES, MessageType, isEmptySnapshot, type NodeId, type Snapshot } from '@deimos/protocol';
import { CompactedError, SnapshotTemporarilyUnavailableError } from './api.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import { assert, min } from './util.js';

/**
 * Sends `to` the entries after its `next` (or a snapshot if they are compacted), unless its
 * progress is paused or, with `sendIfEmpty` false, there is nothing new. True if something was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  assert(pr !== undefined, () => `no progress for ${to}`);
  if (pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  assert(prevIndex <= r.raftLog.lastIndex(), () => `next ${pr.next} of ${to} is past our log`);
  let prevTerm: number;
  let entries;
  try {
    prevTerm = r.raftLog.term(prevIndex);
    entries = r.raftLog.entries(pr.next, r.maxMsgSize);
  } catch (err) {
    if (err instanceof CompactedError) return sendSnapshot(r, to, pr);
    throw err;
  }
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ type: MessageType.MsgApp, to, index: prevIndex, logTerm: prevTerm, entries, commit: r.raftLog.committed });
  pr.sentEntries(entries.length, prevIndex + entries.length);
  return true;
}

/** Sends entries (or an empty probe) to `to`. */
export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  if (!pr.recentActive) {
    r.logger?.debug(`${r.id} not sending snapshot to ${to}: not recently active`);
    return false;
  }
  let snap: Snapshot;
  try {
    snap = r.raftLog.snapshot();
  } catch (err) {
    if (err instanceof SnapshotTemporarilyUnavailableError) {
      r.logger?.debug(`${r.id} failed to send snapshot to ${to}: temporarily unavailable`);
      return false;
    }
    throw err;
  }
  assert(!isEmptySnapshot(snap), 'need a non-empty snapshot once the log is compacted');
  pr.becomeSnapshot(snap.metadata.index);
  r.send({ type: MessageType.MsgSnap, to, snapshot: snap });
  r.logger?.debug(`${r.id} sent snapshot ${snap.metadata.term}/${snap.metadata.index} to ${to}`);
  return true;
}

/** Sends MsgApp to every other member. */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.progress.keys()) {
    if (id !== r.id) sendAppend(r, id);
  }
}

/**
 * Sends a heartbeat; its commit is capped by what the follower is known to have, so a follower
 * is never told to commit entries it may not hold.
 */
export function sendHeartbeat(r: Raft, to: NodeId, context: Uint8Array): void {
  const pr = r.trk.progress.get(to);
  assert(pr !== undefined, () => `no progress for ${to}`);
  r.send({ type: MessageType.MsgHeartbeat, to, commit: min(pr.match, r.raftLog.committed), context });
}

/** Sends heartbeats carrying `context` (a read round) to every other member. */
export function bcastHeartbeatWithContext(r: Raft, context: Uint8Array): void {
  for (const id of r.trk.progress.keys()) {
    if (id !== r.id) sendHeartbeat(r, id, context);
  }
}

/** The periodic heartbeat; it starts a new read round when reads are waiting (retrying lost rounds). */
export function bcastHeartbeat(r: Raft): void {
  const context = r.readOnly.pendingCount > 0 ? r.readOnly.startRound() : EMPTY_BYTES;
  bcastHeartbeatWithContext(r, context);
}

/** Tells the transferee to campaign now. */
export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: MessageType.MsgTimeoutNow, to });
}
