import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, EntryType, MessageType, makeMessage } from '@deimos/protocol';
import { ProposalDroppedError, StateType } from '@deimos/raft';
import { Network, bytes, cc, threeNodes } from './network.js';

/**
 * Starts a joining node bootstrapped with the cluster's current configuration (without itself);
 * replaying the leader's log (or receiving a snapshot) then yields the configuration that includes it.
 */
function join(net: Network, id: string): void {
  net.add(id, net.raw('1').status().confState);
}

test('a brand-new cluster needs no conf-change entries: bootstrap sets the configuration', () => {
  const net = threeNodes();
  assert.ok(net.log('1').every((e) => e.type === EntryType.Normal));
  assert.deepEqual(net.raw('2').status().confState, { voters: ['1', '2', '3'], learners: [] });
});

test('an added node catches up and then counts toward the quorum', () => {
  const net = threeNodes();
  net.propose('1', 'a');
  join(net, '4');
  net.raw('1').proposeConfChange(cc(ConfChangeType.AddNode, '4'));
  net.drain();
  net.tick(2, ['1']);
  assert.deepEqual(net.raw('1').status().confState.voters, ['1', '2', '3', '4']);
  assert.deepEqual(net.get('4').applied, ['a']);
  assert.deepEqual(net.raw('4').status().confState.voters, ['1', '2', '3', '4']);
  // With four voters, two are no longer a quorum.
  net.isolate('3');
  net.isolate('4');
  net.propose('1', 'b');
  assert.deepEqual(net.get('1').applied, ['a']);
});

test('a removed node no longer counts toward the quorum', () => {
  const net = threeNodes();
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '3'));
  net.drain();
  assert.deepEqual(net.raw('1').status().confState.voters, ['1', '2']);
  net.isolate('3');
  net.propose('1', 'a');
  assert.deepEqual(net.get('2').applied, ['a']);
});

test('removing a slow voter lets pending entries commit with the smaller quorum', () => {
  const net = new Network(['1', '2', '3', '4']);
  net.campaign('1');
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '4'));
  net.drain();
  net.isolate('3');
  net.isolate('4');
  net.propose('1', 'a');
  assert.deepEqual(net.get('1').applied, ['a']);
});

test('learners receive the log but do not vote, count for quorum or campaign', () => {
  const net = new Network(['1', '2', '3'], {}, ['4']);
  net.campaign('1');
  net.propose('1', 'a');
  assert.deepEqual(net.get('4').applied, ['a']);
  assert.equal(net.sentOf(MessageType.MsgVote).filter((m) => m.to === '4').length, 0);
  net.isolate('1');
  net.tick(100, ['4']);
  assert.equal(net.state('4'), StateType.Follower);
  assert.equal(net.term('4'), 1);
  net.heal();
  net.isolate('2');
  net.isolate('3');
  net.propose('1', 'b');
  assert.deepEqual(net.get('1').applied, ['a'], 'a learner ack must not commit');
});

test('AddNode on a learner promotes it to a voter', () => {
  const net = new Network(['1', '2', '3'], {}, ['4']);
  net.campaign('1');
  net.raw('1').proposeConfChange(cc(ConfChangeType.AddNode, '4'));
  net.drain();
  for (const id of ['1', '2', '3', '4']) {
    assert.deepEqual(net.raw(id).status().confState, { voters: ['1', '2', '3', '4'], learners: [] });
  }
  net.isolate('1');
  net.tick(40, ['2', '3', '4']);
  assert.notEqual(net.leader(), '1');
});

test('AddLearnerNode on a voter demotes it', () => {
  const net = threeNodes();
  net.raw('1').proposeConfChange(cc(ConfChangeType.AddLearnerNode, '3'));
  net.drain();
  assert.deepEqual(net.raw('1').status().confState, { voters: ['1', '2'], learners: ['3'] });
});

test('UpdateNode changes nothing in the voter and learner sets', () => {
  const net = threeNodes();
  net.raw('1').proposeConfChange({ type: ConfChangeType.UpdateNode, nodeId: '2', context: bytes('{"name":"b"}') });
  net.drain();
  assert.deepEqual(net.raw('1').status().confState, { voters: ['1', '2', '3'], learners: [] });
});

test('only one conf change may be pending at a time', () => {
  const net = threeNodes();
  net.isolate('2');
  net.isolate('3');
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '3'));
  assert.throws(() => net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '2')), ProposalDroppedError);
  net.heal();
  net.tick(2, ['1']);
  assert.deepEqual(net.raw('1').status().confState.voters, ['1', '2']);
  net.raw('1').proposeConfChange(cc(ConfChangeType.AddLearnerNode, '3'));
  net.drain();
  assert.deepEqual(net.raw('1').status().confState, { voters: ['1', '2'], learners: ['3'] });
});

test('a forwarded second conf change is replaced by an empty normal entry', () => {
  const net = threeNodes();
  const hold = net.drop((m) => m.type === MessageType.MsgAppResp);
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '3'));
  net.drain();
  net.raw('1').step(makeMessage({
    type: MessageType.MsgProp, from: '2', to: '1',
    entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: new Uint8Array(0) }],
  }));
  hold();
  net.drain();
  const log = net.log('1');
  assert.equal(log.filter((e) => e.type === EntryType.ConfChange).length, 1);
  assert.equal(log[log.length - 1]!.type, EntryType.Normal);
});

test('a leader that removes itself steps down once the change is applied', () => {
  const net = threeNodes();
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '1'));
  net.drain();
  assert.equal(net.state('1'), StateType.Follower);
  net.tick(30, ['2', '3']);
  const leader = net.leader();
  assert.ok(leader === '2' || leader === '3');
  net.propose(leader, 'after');
  assert.deepEqual(net.get(leader === '2' ? '3' : '2').applied, ['after']);
  // The removed node never campaigns.
  net.tick(50, ['1']);
  assert.equal(net.state('1'), StateType.Follower);
});

test('with pre-vote and check-quorum a removed node that missed its removal cannot disrupt the cluster', () => {
  // As in etcd, voters answer any up-to-date candidate (a stale configuration must not block an
  // election), so it is the pre-vote and the leader lease that keep a removed node out.
  const net = threeNodes({ preVote: true, checkQuorum: true });
  const cut = net.isolate('3');
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '3'));
  net.drain();
  net.propose('1', 'a');
  cut();
  // 3 still believes it is a voter and keeps campaigning with higher terms.
  net.tick(60, ['3']);
  net.tick(5);
  assert.equal(net.leader(), '1');
  assert.equal(net.term('1'), 1);
  assert.deepEqual(net.get('2').applied, ['a']);
});

test('a joining node catches up through a snapshot when the leader has compacted its log', () => {
  const net = threeNodes();
  net.propose('1', 'a');
  net.raw('1').proposeConfChange(cc(ConfChangeType.AddNode, '4'));
  net.drain();
  net.snapshotAndCompact('1');
  net.add('4');
  net.tick(2, ['1']);
  assert.deepEqual(net.raw('4').status().confState.voters, ['1', '2', '3', '4']);
  assert.deepEqual(net.get('4').applied, ['a']);
});

test('a node may not campaign while a committed conf change is unapplied', () => {
  const net = threeNodes();
  const node2 = net.raw('2');
  node2.step(makeMessage({
    type: MessageType.MsgApp, from: '1', to: '2', term: 1, index: 1, logTerm: 1, commit: 2,
    entries: [{ term: 1, index: 2, type: EntryType.ConfChange, data: new Uint8Array([1, 2, 1, 0x34, 0, 0, 0, 0]) }],
  }));
  node2.campaign();
  assert.equal(node2.status().softState.raftState, StateType.Follower);
});

test('a node restarted after applying a conf change keeps the new configuration', () => {
  const net = threeNodes();
  net.raw('1').proposeConfChange(cc(ConfChangeType.RemoveNode, '3'));
  net.drain();
  const restarted = net.restart('2');
  assert.deepEqual(restarted.node.status().confState, { voters: ['1', '2'], learners: [] });
  net.isolate('3');
  net.propose('1', 'a');
  assert.deepEqual(net.get('2').applied, ['a']);
});
