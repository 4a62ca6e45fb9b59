/** Message handling of candidates and pre-candidates. */
import { MessageType, NONE, type Message } from '@deimos/protocol';
import { StateType } from './api.js';
import { bcastAppend } from './leader-send.js';
import { VoteResult } from './progress-tracker.js';
import { CampaignType, campaign, poll } from './election.js';
import type { Raft } from './raft.js';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './step-follower.js';

/** Steps a message (of our term, or local) on a candidate or pre-candidate. */
export function stepCandidate(r: Raft, m: Message): void {
  // Only count responses to our own kind of campaign: a pre-candidate may still see stale
  // MsgVoteResp from an earlier election, and vice versa.
  const myVoteResp = r.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      return r.dropProposal(m, 'no leader');
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp:
      countVote(r, m);
      return;
    default:
      return; // MsgTimeoutNow, MsgReadIndex...: nothing to do without a leader
  }
}

function countVote(r: Raft, m: Message): void {
  const result = poll(r, m.from, m.type, !m.reject);
  if (result === VoteResult.Won) {
    if (r.state === StateType.PreCandidate) {
      campaign(r, CampaignType.Election);
    } else {
      r.becomeLeader();
      bcastAppend(r);
    }
  } else if (result === VoteResult.Lost) {
    // A pre-candidate that lost keeps its term; a candidate keeps the term it bumped.
    r.becomeFollower(r.term, NONE);
  }
}
