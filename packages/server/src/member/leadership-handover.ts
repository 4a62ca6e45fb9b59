/**
 * A leader stopped on purpose (SIGTERM, SIGINT) first hands its leadership to the most caught-up
 * voter, as etcd does: the others would otherwise wait out a whole election timeout with no leader
 * (writes refused or held for 1-2 s at the defaults, far longer with a long timeout), once for each
 * member of a rolling restart. Raft's transfer (MsgTimeoutNow) makes the new leader campaign at
 * once, so the cluster is without one for about a round trip.
 */
import type { NodeId } from '@deimos/protocol';
import type { RaftLoop } from '../raft-node/raft-loop.js';

/** What happened; `to` is the member chosen, when there was one. */
export interface HandoverResult {
  outcome: 'not-leader' | 'no-voter' | 'handed-over' | 'timed-out';
  to?: NodeId;
}

/** How often the leader is looked at while the transfer runs. */
const POLL_MS = 10;

/**
 * Hands leadership over if this member leads and another voter exists; waits at most `waitMs` for
 * another member to lead (raft abandons a transfer after an election timeout anyway).
 */
export async function handOverLeadership(loop: RaftLoop, selfId: NodeId, waitMs: number): Promise<HandoverResult> {
  if (!loop.isLeader) return { outcome: 'not-leader' };
  const to = mostCaughtUpVoter(loop, selfId);
  if (to === undefined) return { outcome: 'no-voter' };
  loop.withNode((node) => node.transferLeadership(to));
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!loop.isLeader) return { outcome: 'handed-over', to };
  }
  return { outcome: 'timed-out', to };
}

/**
 * The voter (not this member, not a learner) heard from lately with the longest log. One not heard
 * from is never chosen: a transfer to a stopped member only delays the stop by the wait.
 */
function mostCaughtUpVoter(loop: RaftLoop, selfId: NodeId): NodeId | undefined {
  let best: { id: NodeId; match: number } | undefined;
  for (const [id, pr] of loop.status().progress) {
    if (id === selfId || pr.isLearner || !pr.recentActive) continue;
    if (best === undefined || pr.match > best.match) best = { id, match: pr.match };
  }
  return best?.id;
}
