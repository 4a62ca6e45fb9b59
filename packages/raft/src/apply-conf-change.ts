/** Applying a committed single-server membership change to a node's configuration. */
import { ConfChangeType, NONE, type ConfChange, type ConfState } from '@deimos/protocol';
import { StateType } from './api.js';
import { bcastAppend } from './leader-send.js';
import type { Raft } from './raft.js';
import { releasePendingReadIndexMessages } from './step-leader.js';

/**
 * Changes the voter/learner sets as `cc` says and returns the new configuration. AddNode promotes
 * a learner; AddLearnerNode demotes a voter; UpdateNode changes nothing; a change with node NONE is
 * a no-op. A leader that is no longer a voter steps down; otherwise it re-evaluates the commit
 * index (the quorum may have shrunk) and brings new members up to date.
 */
export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  if (cc.nodeId === NONE) return r.trk.confState();
  const next = r.raftLog.lastIndex() + 1;
  switch (cc.type) {
    case ConfChangeType.AddNode:
      r.trk.addVoter(cc.nodeId, next);
      break;
    case ConfChangeType.AddLearnerNode:
      r.trk.addLearner(cc.nodeId, next);
      break;
    case ConfChangeType.RemoveNode:
      r.trk.remove(cc.nodeId);
      break;
    case ConfChangeType.UpdateNode:
      break;
  }
  r.trk.assertConsistent();
  r.logger?.info(`${r.id} applied conf change ${ConfChangeType[cc.type]} ${cc.nodeId}`);
  if (r.state !== StateType.Leader) return r.trk.confState();
  if (!r.trk.voters.has(r.id)) {
    r.logger?.info(`${r.id} is no longer a voter and steps down`);
    r.becomeFollower(r.term, NONE);
    return r.trk.confState();
  }
  if (r.leadTransferee !== NONE && !r.trk.voters.has(r.leadTransferee)) r.abortLeaderTransfer();
  if (r.maybeCommit()) releasePendingReadIndexMessages(r);
  bcastAppend(r);
  return r.trk.confState();
}
