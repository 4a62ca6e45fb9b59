import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressState } from '@deimos/raft';
import { Inflights } from '../src/inflights.js';
import { Progress } from '../src/progress.js';
import { ProgressTracker, VoteResult } from '../src/progress-tracker.js';
import { ReadOnly, roundFromContext, roundToContext } from '../src/read-only.js';

test('inflights fill up to capacity and free by acknowledged index', () => {
  const inf = new Inflights(3);
  inf.add(5);
  inf.add(7);
  inf.add(9);
  assert.equal(inf.full(), true);
  assert.throws(() => inf.add(10));
  inf.freeLE(7);
  assert.equal(inf.length, 1);
  inf.add(11);
  inf.add(12);
  assert.equal(inf.full(), true);
  inf.freeFirstOne();
  assert.equal(inf.length, 2);
  inf.freeLE(100);
  assert.equal(inf.length, 0);
});

test('a probing progress sends one message until it hears back', () => {
  const pr = new Progress(5, 10, false);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(1, 5);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.maybeUpdate(5), true);
  assert.equal(pr.isPaused(), false);
});

test('a stale rejection does not move next back', () => {
  const pr = new Progress(10, 10, false);
  pr.match = 5;
  assert.equal(pr.maybeDecrTo(7, 7), false);
  assert.equal(pr.maybeDecrTo(9, 6), true);
  assert.equal(pr.next, 7);
  pr.becomeReplicate();
  assert.equal(pr.maybeDecrTo(4, 4), false);
});

test('leaving snapshot state resumes after the snapshot index', () => {
  const pr = new Progress(3, 10, false);
  pr.becomeSnapshot(20);
  assert.equal(pr.isPaused(), true);
  pr.becomeProbe();
  assert.equal(pr.state, ProgressState.Probe);
  assert.equal(pr.next, 21);
});

test('the commit index is the highest index a majority of voters holds', () => {
  const trk = new ProgressTracker(10);
  trk.applyConfState({ voters: ['1', '2', '3', '4', '5'], learners: ['6'] }, 1);
  const matches: Record<string, number> = { 1: 9, 2: 8, 3: 3, 4: 2, 5: 1, 6: 100 };
  for (const [id, pr] of trk.progress) pr.match = matches[id]!;
  assert.equal(trk.committed(), 3);
});

test('committed is the value a quorum has reached, for every voter count and any order of matches (seeded)', () => {
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 500; round++) {
    const n = 1 + next(7);
    const ids = Array.from({ length: n }, (_, i) => String(i + 1));
    const trk = new ProgressTracker(10);
    trk.applyConfState({ voters: ids, learners: [] }, 1);
    const matches = ids.map(() => next(5)); // small range: many ties
    ids.forEach((id, i) => (trk.progress.get(id)!.match = matches[i]!));
    // The largest v such that at least n/2+1 voters have match >= v.
    const expected = Math.max(0, ...matches.filter((v) => matches.filter((m) => m >= v).length >= Math.floor(n / 2) + 1));
    assert.equal(trk.committed(), expected, `matches ${matches.join(',')}`);
  }
});

test('votes win with a majority, lose when a majority is impossible', () => {
  const trk = new ProgressTracker(10);
  trk.applyConfState({ voters: ['1', '2', '3'], learners: ['4'] }, 1);
  trk.recordVote('1', true);
  trk.recordVote('4', true);
  assert.equal(trk.tallyVotes().result, VoteResult.Pending);
  trk.recordVote('2', false);
  trk.recordVote('2', true); // only the first vote counts
  assert.equal(trk.tallyVotes().result, VoteResult.Pending);
  trk.recordVote('3', false);
  assert.equal(trk.tallyVotes().result, VoteResult.Lost);
});

test('read rounds release only requests queued before the confirmed round', () => {
  const ro = new ReadOnly();
  ro.addRequest(5, new Uint8Array([1]), '1');
  assert.equal(ro.roundInFlight(), false);
  const ctx = ro.startRound();
  assert.equal(roundFromContext(ctx), 1);
  ro.addRequest(6, new Uint8Array([2]), '1');
  assert.equal(ro.needsRound(), true);
  assert.deepEqual(ro.release(1).map((r) => r.index), [5]);
  assert.equal(ro.roundInFlight(), false);
  ro.startRound();
  assert.deepEqual(ro.release(2).map((r) => r.index), [6]);
  assert.equal(roundFromContext(roundToContext(2 ** 40 + 3)), 2 ** 40 + 3);
  assert.equal(roundFromContext(new Uint8Array([1, 2])), undefined);
});
