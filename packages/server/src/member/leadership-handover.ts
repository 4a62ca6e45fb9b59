/**
 * A leader stopped on purpose (SIGTERM, SIGINT) first hands its leadership to the most caught-up
 * voter, as etcd does: the others would otherwise wait out a whole election timeout with no leader
 * (writes refused or held for 1-2 s at the defaults, far longer with a long timeout), once for each
 * member of a rolling restart. Raft's transfer (MsgTimeoutNow) makes the new leader campaign at
 * once, so the cluster is without one for about a round trip.
 */
import type { NodeId } from '@deimos/protocol';
import type { RaftLoop } from '../raft-node/raft-loop.js';

/** What the hand-over uses of the raft loop. */
export type HandoverLoop = Pick<RaftLoop, 'isLeader' | 'status' | 'withNode'>;

/** What happened; `to` is the member chosen, when there was one. */
export interface HandoverResult {
  outcome: 'not-leader' | 'no-voter' | 'handed-over' | 'timed-out';
  to?: NodeId;
}

/** How often the leader is looked at while the transfer runs. */
const POLL_MS = 10;

/**
 * How long ago each peer was heard from over streams that are both up (undefined: a stream is
 * down); the peer transport answers it.
 */
export type HeardAgo = (id: NodeId) => number | undefined;

/**
 * Hands leadership over if this member leads and another voter was heard from within `freshMs`
 * over live streams; waits at most `waitMs` for another member to lead (raft abandons a transfer
 * after an election timeout anyway).
 */
export async function handOverLeadership(loop: HandoverLoop, selfId: NodeId, heardAgo: HeardAgo, freshMs: number, waitMs: number): Promise<HandoverResult> {
  if (!loop.isLeader) return { outcome: 'not-leader' };
  const to = mostCaughtUpVoter(loop, selfId, heardAgo, freshMs);
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
 * The voter (not this member, not a learner) with the longest log among those heard from within
 * `freshMs` over live streams, the most lately heard on a tie. Raft's `recentActive` is not enough:
 * it is cleared once an election timeout, so a member killed (or paused) just before was chosen,
 * and the stop waited out the transfer and the others an election after it.
 */
function mostCaughtUpVoter(loop: HandoverLoop, selfId: NodeId, heardAgo: HeardAgo, freshMs: number): NodeId | undefined {
  let best: { id: NodeId; match: number; ago: number } | undefined;
  for (const [id, pr] of loop.status().progress) {
    if (id === selfId || pr.isLearner) continue;
    const ago = heardAgo(id);
    if (ago === undefined || ago > freshMs) continue;
    if (best === undefined || pr.match > best.match || (pr.match === best.match && ago < best.ago)) best = { id, match: pr.match, ago };
  }
  return best?.id;
}
