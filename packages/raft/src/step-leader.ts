/** A leader's message handling: one handler per message type. */
import { EntryType, EMPTY_BYTES, MessageType, NONE, type Entry, type Message, type NodeId } from '@deimos/protocol';
import { ProgressState } from './api.js';
import {
  bcastAppend, bcastHeartbeat, bcastHeartbeatWithContext, maybeSendAppend, sendAppend, sendTimeoutNow,
} from './leader-send.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import { roundFromContext, type ReadRequest } from './read-only.js';
import { assert } from './util.js';

type PeerHandler = (r: Raft, m: Message, pr: Progress) => void;

const peerHandlers: Partial<Record<MessageType, PeerHandler>> = {
  [MessageType.MsgAppResp]: handleAppendResponse,
  [MessageType.MsgHeartbeatResp]: handleHeartbeatResponse,
  [MessageType.MsgSnapStatus]: handleSnapStatus,
  [MessageType.MsgUnreachable]: handleUnreachable,
  [MessageType.MsgTransferLeader]: handleTransferLeader,
};

/** Steps a message (of our term, or local) on the leader. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return;
    case MessageType.MsgCheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.MsgProp:
      handleProposal(r, m);
      return;
    case MessageType.MsgReadIndex:
      if (!r.committedEntryInCurrentTerm()) {
        // Our commit index may lag what earlier leaders committed until we commit in our term.
        r.pendingReadIndexMessages.push(m);
        return;
      }
      handleReadIndex(r, m);
      return;
    default:
      break;
  }
  const handler = peerHandlers[m.type];
  if (handler === undefined) return;
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.logger?.debug(`${r.id} has no progress for ${m.from}; ignored ${MessageType[m.type]}`);
    return;
  }
  handler(r, m, pr);
}

function checkQuorum(r: Raft): void {
  if (!r.trk.quorumActive(r.id)) {
    r.logger?.warn(`${r.id} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, NONE);
  }
  for (const [id, pr] of r.trk.progress) {
    if (id !== r.id) pr.recentActive = false;
  }
}

function handleProposal(r: Raft, m: Message): void {
  assert(m.entries.length > 0, 'stepped empty MsgProp');
  if (!r.trk.progress.has(r.id)) return r.dropProposal(m, 'leader was removed from the configuration');
  if (r.leadTransferee !== NONE) return r.dropProposal(m, `leadership is being transferred to ${r.leadTransferee}`);
  const entries: Entry[] = [];
  let pendingConfIndex = r.pendingConfIndex;
  for (const [i, e] of m.entries.entries()) {
    if (e.type !== EntryType.ConfChange) {
      entries.push({ ...e });
    } else if (pendingConfIndex > r.raftLog.applied) {
      // Only one conf change may be pending (single-server changes must not overlap). The local
      // caller gets an error; a forwarded one becomes an empty entry so its batch still commits.
      if (m.from === r.id) return r.dropProposal(m, 'a conf change is already pending');
      entries.push({ ...e, type: EntryType.Normal, data: EMPTY_BYTES });
    } else {
      pendingConfIndex = r.raftLog.lastIndex() + i + 1;
      entries.push({ ...e });
    }
  }
  if (!r.appendEntry(entries)) return r.dropProposal(m, 'too many uncommitted entries');
  r.pendingConfIndex = pendingConfIndex;
  // Sent with the next Ready: a burst of proposals then costs one MsgApp per follower.
  r.appendsDue = true;
}

/** Queues a read for the next heartbeat round (answers at once with a single voter). */
function handleReadIndex(r: Raft, m: Message): void {
  const committed = r.raftLog.committed;
  if (r.trk.isSingleton(r.id)) {
    respondToReadIndex(r, { index: committed, requestCtx: m.context, from: m.from, round: 0 });
    return;
  }
  r.readOnly.addRequest(committed, m.context, m.from);
  if (!r.readOnly.roundInFlight()) bcastHeartbeatWithContext(r, r.readOnly.startRound());
}

function respondToReadIndex(r: Raft, req: ReadRequest): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index: req.index, requestCtx: req.requestCtx });
  } else {
    r.send({ type: MessageType.MsgReadIndexResp, to: req.from, index: req.index, context: req.requestCtx });
  }
}

/** Serves reads that arrived before this leader committed an entry of its term. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) handleReadIndex(r, m);
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === ProgressState.Probe)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The follower caught up (by the snapshot or otherwise) to where our log can serve it.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (wasPaused) {
    sendAppend(r, m.from);
  }
  while (maybeSendAppend(r, m.from, false)) { /* stream while the inflight window allows */ }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger?.info(`${r.id} sent MsgTimeoutNow to ${m.from} after it caught up`);
    sendTimeoutNow(r, m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // The follower is alive: if all our MsgApp to it were lost, free a slot so the stream resumes.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
  const round = roundFromContext(m.context);
  if (round === undefined) return;
  const readOnly = r.readOnly;
  readOnly.recvAck(m.from, round);
  const confirmed = r.trk.quorumValue((id: NodeId) => readOnly.ackedRound(id, r.id));
  for (const req of readOnly.release(confirmed)) respondToReadIndex(r, req);
  if (readOnly.needsRound() && !readOnly.roundInFlight()) bcastHeartbeatWithContext(r, readOnly.startRound());
}

function handleSnapStatus(r: Raft, m: Message, pr: Progress): void {
  if (pr.state !== ProgressState.Snapshot) return;
  if (m.reject) pr.pendingSnapshot = 0; // failed: probe again from match + 1
  pr.becomeProbe();
  // Wait for a heartbeat response before probing: the follower may still be installing it.
  pr.probeSent = true;
  r.logger?.debug(`${r.id} snapshot to ${m.from} ${m.reject ? 'failed' : 'succeeded'}; probing from ${pr.next}`);
}

function handleUnreachable(r: Raft, m: Message, pr: Progress): void {
  // Stop streaming optimistically: MsgApp were probably lost.
  if (pr.state === ProgressState.Replicate) pr.becomeProbe();
  r.logger?.debug(`${r.id} failed to send a message to ${m.from}: unreachable`);
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  const transferee = m.from;
  if (pr.isLearner) {
    r.logger?.debug(`${r.id} ignored transferring leadership to learner ${transferee}`);
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return; // same transfer already in progress
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return;
  // The transfer must finish within one election timeout or it is aborted.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppend(r, transferee);
}
