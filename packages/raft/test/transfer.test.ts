import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, NONE } from '@deimos/protocol';
import { ProposalDroppedError, StateType } from '@deimos/raft';
import { Network, bytes, threeNodes } from './network.js';

test('leadership moves to an up-to-date follower at once', () => {
  const net = threeNodes();
  net.raw('1').transferLeadership('2');
  net.drain();
  assert.equal(net.leader(), '2');
  assert.equal(net.term('2'), 2);
  assert.equal(net.state('1'), StateType.Follower);
  assert.equal(net.sentOf(MessageType.MsgTimeoutNow).length, 1);
});

test('the leader catches a lagging transferee up before sending MsgTimeoutNow', () => {
  const net = threeNodes();
  const heal = net.isolate('3');
  for (const v of ['a', 'b']) net.propose('1', v);
  heal();
  net.raw('1').transferLeadership('3');
  net.drain();
  assert.equal(net.leader(), '3');
  assert.deepEqual(net.get('3').applied, ['a', 'b']);
});

test('a transfer request on a follower is forwarded to the leader', () => {
  const net = threeNodes();
  net.raw('3').transferLeadership('3');
  net.drain();
  assert.equal(net.leader(), '3');
});

test('proposals are dropped while a transfer is pending', () => {
  const net = threeNodes();
  net.isolate('3');
  net.raw('1').transferLeadership('3');
  net.drain();
  assert.equal(net.raw('1').status().leadTransferee, '3');
  assert.throws(() => net.raw('1').propose(bytes('x')), ProposalDroppedError);
});

test('a transfer that does not finish within an election timeout is aborted', () => {
  const net = threeNodes();
  net.isolate('3');
  net.raw('1').transferLeadership('3');
  net.drain();
  net.tick(10, ['1']);
  assert.equal(net.raw('1').status().leadTransferee, NONE);
  assert.equal(net.leader(), '1');
  net.propose('1', 'after');
  assert.deepEqual(net.get('2').applied, ['after']);
});

test('the transferee campaigns even inside the voters\' leader lease and with pre-vote', () => {
  const net = new Network(['1', '2', '3'], { preVote: true, checkQuorum: true });
  net.campaign('1');
  net.raw('1').transferLeadership('2');
  net.drain();
  assert.equal(net.leader(), '2');
  assert.equal(net.sentOf(MessageType.MsgPreVote).filter((m) => m.from === '2').length, 0);
});

test('transferring to a learner is ignored', () => {
  const net = new Network(['1', '2'], {}, ['3']);
  net.campaign('1');
  net.raw('1').transferLeadership('3');
  net.drain();
  assert.equal(net.raw('1').status().leadTransferee, NONE);
  assert.equal(net.leader(), '1');
});

test('transferring to the leader itself is a no-op', () => {
  const net = threeNodes();
  net.raw('1').transferLeadership('1');
  net.drain();
  assert.equal(net.raw('1').status().leadTransferee, NONE);
  assert.equal(net.leader(), '1');
  assert.equal(net.term('1'), 1);
});

test('a second transfer to another node replaces the first', () => {
  const net = threeNodes();
  const cut = net.isolate('3');
  net.raw('1').transferLeadership('3');
  net.drain();
  cut();
  net.raw('1').transferLeadership('2');
  net.drain();
  assert.equal(net.leader(), '2');
});
