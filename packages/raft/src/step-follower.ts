/** A follower's message handling, and the log-receiving handlers shared with candidates. */
import { MessageType, NONE, type Message } from '@deimos/protocol';
import { CampaignType, hup } from './election.js';
import type { Raft } from './raft.js';
import { assert, min } from './util.js';

/** Steps a message (of our term, or local) on a follower. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === NONE) return r.dropProposal(m, 'no leader');
      if (r.disableProposalForwarding) return r.dropProposal(m, 'proposal forwarding is disabled');
      r.send({ ...m, to: r.lead, term: 0 });
      return;
    case MessageType.MsgApp:
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      return;
    case MessageType.MsgTransferLeader:
      if (r.lead === NONE) return;
      r.send({ type: m.type, to: r.lead, from: m.from, index: m.index });
      return;
    case MessageType.MsgTimeoutNow:
      r.logger?.info(`${r.id} received MsgTimeoutNow from ${m.from} and starts an election to take leadership`);
      hup(r, CampaignType.Transfer);
      return;
    case MessageType.MsgReadIndex:
      if (r.lead === NONE) {
        r.logger?.debug(`${r.id} dropped read index: no leader at term ${r.term}`);
        return;
      }
      r.send({ type: MessageType.MsgReadIndex, to: r.lead, context: m.context });
      return;
    case MessageType.MsgReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context });
      return;
    default:
      return;
  }
}

function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
}

/** Appends the leader's entries if our log matches at (index, logTerm); otherwise rejects with a hint. */
export function handleAppendEntries(r: Raft, m: Message): void {
  const log = r.raftLog;
  if (m.index < log.committed) {
    r.send({ type: MessageType.MsgAppResp, to: m.from, index: log.committed });
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ type: MessageType.MsgAppResp, to: m.from, index: lastNew });
    return;
  }
  // Tell the leader the last index where our log can possibly match its, and our term there,
  // so it can skip a whole term of mismatching entries per round trip.
  const hint = log.findConflictByTerm(min(m.index, log.lastIndex()), m.logTerm);
  assert(hint.index <= m.index, 'reject hint beyond the rejected index');
  r.send({ type: MessageType.MsgAppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
}

/** Learns the commit index (capped by the leader to what we hold) and echoes the read-round context. */
export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context });
}

/** Installs the leader's snapshot when it is news, and reports how far our log now goes. */
export function handleSnapshot(r: Raft, m: Message): void {
  assert(m.snapshot !== undefined, 'MsgSnap without snapshot');
  const index = r.restore(m.snapshot) ? r.raftLog.lastIndex() : r.raftLog.committed;
  r.send({ type: MessageType.MsgAppResp, to: m.from, index });
}
