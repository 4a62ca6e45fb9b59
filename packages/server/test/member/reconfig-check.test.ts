import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddMember, checkRemoveMember, HEALTH_INTERVAL_MS, type ReconfigView } from '../../src/member/reconfig-check.js';

const NOW = 100_000;
const LONG_AGO = NOW - HEALTH_INTERVAL_MS - 1;

/** A view of members a (self), b, c...; `active` maps a peer to since when it is reachable. */
function view(members: Array<[string, boolean]>, active: Record<string, number>): ReconfigView {
  return {
    selfId: 'a',
    members: members.map(([id, started]) => ({ id, started })),
    activeSince: (id) => active[id],
    nowMs: NOW,
  };
}

const healthy3 = view([['a', true], ['b', true], ['c', true]], { b: LONG_AGO, c: LONG_AGO });

test('adding a member to a healthy 3-member cluster is allowed', () => {
  assert.equal(checkAddMember(healthy3), undefined);
});

test('adding a second member while an unstarted one is already in is refused (the bogus POSTs)', () => {
  // After one POST of an unreachable URL: 4 voters, 3 started, the new one never connects.
  const v = view([['a', true], ['b', true], ['c', true], ['d', false]], { b: LONG_AGO, c: LONG_AGO });
  assert.equal(checkAddMember(v)?.code, 'unhealthy');
});

test('adding a member when too few would be started is refused', () => {
  const v = view([['a', true], ['b', false], ['c', false], ['d', false]], { b: LONG_AGO, c: LONG_AGO, d: LONG_AGO });
  assert.equal(checkAddMember(v)?.code, 'not-enough-started');
});

test('adding a member with one of three members down is refused', () => {
  const v = view([['a', true], ['b', true], ['c', true]], { b: LONG_AGO });
  assert.match(checkAddMember(v)?.reason ?? '', /not connected to c/);
});

test('adding a member right after a peer connected is refused until the health interval passed', () => {
  const v = view([['a', true], ['b', true], ['c', true]], { b: LONG_AGO, c: NOW - 1000 });
  assert.equal(checkAddMember(v)?.code, 'unhealthy');
});

test('adding a member to a one-member cluster is allowed (how a restored cluster grows)', () => {
  assert.equal(checkAddMember(view([['a', true]], {})), undefined);
});

test('removing a member that is down is allowed', () => {
  const v = view([['a', true], ['b', true], ['c', true]], { b: LONG_AGO });
  assert.equal(checkRemoveMember(v, 'c'), undefined);
});

test('removing a live member while another is down is refused', () => {
  const v = view([['a', true], ['b', true], ['c', true]], { b: LONG_AGO });
  assert.equal(checkRemoveMember(v, 'b')?.code, 'unhealthy');
});

test('removing an unstarted member that never connected is allowed', () => {
  const v = view([['a', true], ['b', true], ['c', true], ['d', false]], { b: LONG_AGO, c: LONG_AGO });
  assert.equal(checkRemoveMember(v, 'd'), undefined);
});

test('removing a member of a healthy cluster is allowed, itself included', () => {
  assert.equal(checkRemoveMember(healthy3, 'b'), undefined);
  assert.equal(checkRemoveMember(healthy3, 'a'), undefined);
});

test('removing a started member when the rest would lack a started quorum is refused', () => {
  const v = view([['a', true], ['b', false], ['c', false], ['d', true]], { b: LONG_AGO, c: LONG_AGO, d: LONG_AGO });
  assert.equal(checkRemoveMember(v, 'd')?.code, 'not-enough-started');
});
