import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUT, TIMEOUT_CONNECTION_LOST, TIMEOUT_LEADER_FAIL, causeOfTimeout, timeoutCause, timeoutKindOf, type TimeoutView,
} from '../../src/member/timeout-cause.js';

/** A follower of leader `b` in a cluster a, b, c; the request started at 10,000 ms. */
function view(over: Partial<TimeoutView> & { active?: Record<string, number> } = {}): TimeoutView {
  const active = over.active ?? { b: 1_000, c: 1_000 };
  return {
    startedMs: 10_000,
    leaderElectedMs: 2_000,
    electionSpanMs: 2_000,
    leader: 'b',
    selfId: 'a',
    peers: ['b', 'c'],
    activeSince: (id) => active[id],
    ...over,
  };
}

test('a leader elected after the request started, the previous one lost around its start: previous leader failure', () => {
  assert.equal(timeoutCause(view({ leaderElectedMs: 11_000 })), TIMEOUT_LEADER_FAIL);
  assert.equal(timeoutCause(view({ leaderElectedMs: 11_999 })), TIMEOUT_LEADER_FAIL);
  // Elected long after the start (more than twice the election timeout): not the leader's failure.
  assert.equal(timeoutCause(view({ leaderElectedMs: 12_001 })), TIMEOUT);
  // Elected before the request started.
  assert.equal(timeoutCause(view({ leaderElectedMs: 9_000 })), TIMEOUT);
});

test('a follower not connected to its leader since the request started: connection lost', () => {
  assert.equal(timeoutCause(view({ active: { c: 1_000 } })), TIMEOUT_CONNECTION_LOST, 'the leader unreachable now');
  assert.equal(timeoutCause(view({ active: { b: 10_500, c: 1_000 } })), TIMEOUT_CONNECTION_LOST, 'reconnected after the start');
  assert.equal(timeoutCause(view()), TIMEOUT, 'connected all along');
});

test('a leader not connected to a quorum since the request started: connection lost', () => {
  const leader = { leader: 'a' };
  assert.equal(timeoutCause(view({ ...leader, active: { b: 1_000 } })), TIMEOUT, 'itself and b: a quorum of three');
  assert.equal(timeoutCause(view({ ...leader, active: {} })), TIMEOUT_CONNECTION_LOST);
  assert.equal(timeoutCause(view({ ...leader, active: { b: 10_001 } })), TIMEOUT_CONNECTION_LOST);
  assert.equal(timeoutCause(view({ ...leader, peers: [], active: {} })), TIMEOUT, 'a member alone is its own quorum');
});

test('no leader now: the plain timeout', () => {
  assert.equal(timeoutCause(view({ leader: '0', active: {} })), TIMEOUT);
});

test('each cause crosses the worker channel as its kind and back', () => {
  for (const cause of [TIMEOUT, TIMEOUT_LEADER_FAIL, TIMEOUT_CONNECTION_LOST]) assert.equal(causeOfTimeout(timeoutKindOf(cause)), cause);
  assert.equal(timeoutKindOf('something else'), 'timeout');
});
