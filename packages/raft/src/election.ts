/** Elections: starting campaigns, counting votes, and deciding whether to grant a vote. */
import { EMPTY_BYTES, MessageType, NONE, type Message, type NodeId } from '@deimos/protocol';
import { StateType } from './api.js';
import { VoteResult } from './progress-tracker.js';
import type { Raft } from './raft.js';
import { asciiBytes, max, voteRespType } from './util.js';

/** Why a node campaigns. */
export enum CampaignType {
  PreElection = 'CampaignPreElection',
  Election = 'CampaignElection',
  /** Requested by the leader (MsgTimeoutNow): bypasses pre-vote and the voters' leader lease. */
  Transfer = 'CampaignTransfer',
}

/** Context of vote requests of a transfer campaign. */
export const CAMPAIGN_TRANSFER_CONTEXT = asciiBytes(CampaignType.Transfer);

/** Starts an election unless we are leader, may not campaign, or have unapplied conf changes. */
export function hup(r: Raft, kind: CampaignType): void {
  if (r.state === StateType.Leader) return;
  if (!r.promotable()) {
    r.logger?.warn(`${r.id} is unpromotable and can not campaign`);
    return;
  }
  const log = r.raftLog;
  if (log.countConfChanges(max(log.applied + 1, log.firstIndex()), log.committed + 1) > 0) {
    r.logger?.warn(`${r.id} cannot campaign at term ${r.term}: unapplied conf changes`);
    return;
  }
  campaign(r, kind);
}

/** Campaigns now: pre-election, election, or a transfer election that voters may not refuse for lease reasons. */
export function campaign(r: Raft, kind: CampaignType): void {
  if (!r.promotable()) return;
  let voteType: MessageType;
  let term: number;
  if (kind === CampaignType.PreElection) {
    r.becomePreCandidate();
    voteType = MessageType.MsgPreVote;
    term = r.term + 1; // the term we would campaign with; ours stays unchanged
  } else {
    r.becomeCandidate();
    voteType = MessageType.MsgVote;
    term = r.term;
  }
  if (poll(r, r.id, voteRespType(voteType), true) === VoteResult.Won) {
    // A single voter wins at once.
    if (kind === CampaignType.PreElection) campaign(r, CampaignType.Election);
    else r.becomeLeader();
    return;
  }
  const context = kind === CampaignType.Transfer ? CAMPAIGN_TRANSFER_CONTEXT : EMPTY_BYTES;
  for (const id of r.trk.voters) {
    if (id === r.id) continue;
    r.send({
      type: voteType, to: id, term, index: r.raftLog.lastIndex(), logTerm: r.raftLog.lastTerm(), context,
    });
  }
}

/** Records a vote and returns the election's outcome so far. */
export function poll(r: Raft, id: NodeId, t: MessageType, granted: boolean): VoteResult {
  r.logger?.debug(`${r.id} received ${MessageType[t]} ${granted ? 'grant' : 'rejection'} from ${id} at term ${r.term}`);
  r.trk.recordVote(id, granted);
  return r.trk.tallyVotes().result;
}

/** Grants or refuses a (pre-)vote request of our term or a higher one. */
export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote = r.vote === m.from
    || (r.vote === NONE && r.lead === NONE)
    || (m.type === MessageType.MsgPreVote && m.term > r.term);
  const respType = voteRespType(m.type);
  // Vote for any candidate with an up-to-date log, whatever our (possibly stale) configuration
  // says: a voter that missed the change adding the candidate must still help elect it. Removed
  // nodes are kept from disrupting the cluster by pre-vote and the check-quorum lease instead.
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    // Reply with the request's term: a pre-candidate counts only responses for its future term.
    r.send({ type: respType, to: m.from, term: m.term });
    if (m.type === MessageType.MsgVote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ type: respType, to: m.from, term: r.term, reject: true });
  }
}

