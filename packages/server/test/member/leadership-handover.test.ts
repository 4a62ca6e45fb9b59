import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProgressStatus, RaftNode, Status } from '@deimos/raft';
import { handOverLeadership, type HandoverLoop } from '../../src/member/leadership-handover.js';

/** A leader whose progress is `progress`; a transfer makes it a follower at once. */
function leaderWith(progress: Record<string, Partial<ProgressStatus>>): HandoverLoop & { transferredTo: string[] } {
  const transferredTo: string[] = [];
  let leading = true;
  const full = new Map(Object.entries(progress).map(([id, p]) => [id, { match: 0, next: 1, state: 2, isLearner: false, recentActive: true, ...p } as ProgressStatus]));
  return {
    transferredTo,
    get isLeader() {
      return leading;
    },
    status: () => ({ progress: full } as unknown as Status),
    withNode: <T>(fn: (node: RaftNode) => T): T => fn({
      transferLeadership: (id: string) => {
        transferredTo.push(id);
        leading = false;
      },
    } as unknown as RaftNode),
  };
}

test('the hand-over goes to the most caught-up voter heard over live streams, the most lately heard on a tie', async () => {
  const progress = { a: { match: 10 }, b: { match: 12 }, c: { match: 12 }, d: { match: 20, isLearner: true }, e: { match: 30 } };
  // e: its streams are down (killed just now, though raft still counts it recently active).
  const heard: Record<string, number | undefined> = { a: 5, b: 90, c: 40, d: 1, e: undefined };
  const loop = leaderWith(progress);
  assert.deepEqual(await handOverLeadership(loop, 'self', (id) => heard[id], 500, 1000), { outcome: 'handed-over', to: 'c' });
  assert.deepEqual(loop.transferredTo, ['c']);
  // Paused: silent past the freshness bound.
  const quiet = leaderWith({ a: { match: 50 }, b: { match: 10 } });
  assert.equal((await handOverLeadership(quiet, 'self', (id) => (id === 'a' ? 900 : 10), 500, 1000)).to, 'b');
  // Nobody heard: no transfer (the stop goes on at once).
  const alone = leaderWith({ a: { match: 50 } });
  assert.deepEqual(await handOverLeadership(alone, 'self', () => undefined, 500, 1000), { outcome: 'no-voter' });
  assert.deepEqual(alone.transferredTo, []);
});
