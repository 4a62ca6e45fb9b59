import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, NONE, makeMessage } from '@deimos/protocol';
import { MemoryStorage, RawNode, StateType } from '@deimos/raft';
import { Network, SeededRng, threeNodes } from './network.js';

test('a campaigning node wins the election in a healthy three-node cluster', () => {
  const net = threeNodes();
  assert.equal(net.leader(), '1');
  assert.equal(net.term('1'), 1);
  for (const id of ['2', '3']) {
    assert.equal(net.state(id), StateType.Follower);
    assert.equal(net.raw(id).status().softState.lead, '1');
    assert.equal(net.raw(id).status().hardState.vote, '1');
  }
});

test('a single-node cluster elects itself and commits its empty entry', () => {
  const net = new Network(['1']);
  net.campaign('1');
  assert.equal(net.leader(), '1');
  assert.equal(net.commit('1'), 1);
});

test('followers elect a leader on their own after the election timeout', () => {
  const net = new Network(['1', '2', '3']);
  net.tick(20);
  const leader = net.leader();
  assert.notEqual(leader, NONE);
  for (const id of ['1', '2', '3']) assert.equal(net.raw(id).status().softState.lead, leader);
});

test('the randomized election timeout lies in [electionTicks, 2*electionTicks)', () => {
  for (let seed = 1; seed < 50; seed++) {
    const storage = new MemoryStorage();
    storage.bootstrap({ voters: ['1', '2'], learners: [] });
    const node = new RawNode({ id: '1', electionTicks: 10, heartbeatTicks: 1, storage, rng: new SeededRng(seed) });
    let ticks = 0;
    while (node.status().softState.raftState === StateType.Follower) {
      node.tick();
      ticks++;
    }
    assert.ok(ticks >= 10 && ticks < 20, `campaigned after ${ticks} ticks`);
  }
});

test('a node grants at most one vote per term', () => {
  const net = new Network(['1', '2', '3']);
  net.drop((m) => m.type === MessageType.MsgVoteResp);
  net.raw('1').campaign();
  net.raw('3').campaign();
  net.drain();
  const grants = net.sentOf(MessageType.MsgVoteResp).filter((m) => m.from === '2' && !m.reject);
  assert.equal(grants.length, 1);
});

test('a candidate with a stale log does not win votes', () => {
  const net = threeNodes();
  const heal = net.isolate('3');
  net.propose('1', 'a');
  heal();
  // 3 campaigns with a log that lacks entry 2.
  net.raw('3').campaign();
  net.drain();
  assert.notEqual(net.state('3'), StateType.Leader);
  const rejects = net.sentOf(MessageType.MsgVoteResp).filter((m) => m.to === '3' && m.reject);
  assert.equal(rejects.length, 2);
});

test('a candidate steps down when it sees a leader of its term', () => {
  const net = new Network(['1', '2', '3']);
  const heal = net.drop((m) => m.from === '2' && m.type === MessageType.MsgVote);
  net.campaign('2');
  assert.equal(net.state('2'), StateType.Candidate);
  heal();
  net.campaign('1'); // same term 1: 3 votes for 1, 2 has voted for itself
  assert.equal(net.leader(), '1');
  assert.equal(net.term('2'), 1);
  assert.equal(net.state('2'), StateType.Follower);
  assert.equal(net.raw('2').status().softState.lead, '1');
});

test('a pre-candidate does not bump its term', () => {
  const net = new Network(['1', '2', '3'], { preVote: true });
  net.campaign('1');
  assert.equal(net.leader(), '1');
  const heal = net.isolate('3');
  net.tick(50, ['3']);
  assert.equal(net.state('3'), StateType.PreCandidate);
  assert.equal(net.term('3'), 1);
  heal();
  net.tick(3);
  assert.equal(net.leader(), '1');
  assert.equal(net.term('1'), 1);
  assert.equal(net.raw('3').status().softState.lead, '1');
});

test('without pre-vote a rejoining partitioned node forces a new term', () => {
  const net = threeNodes();
  const heal = net.isolate('3');
  net.tick(50, ['3']);
  assert.ok(net.term('3') > 1);
  heal();
  net.tick(1, ['1']); // the leader's heartbeat is rejected; 3 stays a candidate
  net.tick(40);
  assert.ok(net.term('1') > 1);
});

test('pre-vote elects a leader when the majority agrees', () => {
  const net = new Network(['1', '2', '3'], { preVote: true });
  net.campaign('2');
  assert.equal(net.leader(), '2');
  assert.equal(net.term('2'), 1);
  assert.ok(net.sentOf(MessageType.MsgPreVote).length >= 2);
});

test('a leader steps down when it has not heard from a quorum in an election timeout', () => {
  const net = threeNodes({ checkQuorum: true });
  net.partition(['1'], ['2', '3']);
  net.tick(21, ['1']);
  assert.equal(net.state('1'), StateType.Follower);
});

test('a leader with an active quorum stays leader under check-quorum', () => {
  const net = threeNodes({ checkQuorum: true });
  net.isolate('3');
  net.tick(50, ['1', '2']);
  assert.equal(net.state('1'), StateType.Leader);
  assert.equal(net.term('1'), 1);
});

test('followers within their leader lease ignore vote requests of a higher term', () => {
  const net = threeNodes({ checkQuorum: true });
  net.raw('2').step(makeMessage({ type: MessageType.MsgVote, from: '3', to: '2', term: 5, index: 10, logTerm: 5 }));
  net.drain();
  assert.equal(net.term('2'), 1);
  assert.equal(net.raw('2').status().softState.lead, '1');
});

test('with pre-vote and check-quorum a partitioned node rejoining cannot disrupt a healthy leader', () => {
  const net = new Network(['1', '2', '3'], { preVote: true, checkQuorum: true });
  net.campaign('1');
  const heal = net.isolate('3');
  net.tick(60, ['3']);
  heal();
  net.tick(30);
  assert.equal(net.leader(), '1');
  assert.equal(net.term('1'), 1);
  assert.equal(net.raw('3').status().softState.lead, '1');
});

test('a stale leader learns the new term from a lower-term MsgApp response and steps down', () => {
  const net = threeNodes({ checkQuorum: true });
  const heal = net.isolate('1');
  net.tick(25, ['2', '3']);
  const newLeader = net.leader();
  assert.ok(newLeader === '2' || newLeader === '3');
  assert.equal(net.state('1'), StateType.Leader); // it has not noticed yet
  heal();
  net.tick(1, ['1']);
  assert.equal(net.state('1'), StateType.Follower);
  assert.equal(net.term('1'), net.term(newLeader));
});

test('a leader ignores MsgHup', () => {
  const net = threeNodes();
  net.campaign('1');
  assert.equal(net.term('1'), 1);
  assert.equal(net.state('1'), StateType.Leader);
});

test('a node can restart from durable state and keeps its term and vote', () => {
  const net = threeNodes();
  net.propose('1', 'x');
  const st = net.raw('2').status();
  const restarted = net.restart('2');
  assert.deepEqual(restarted.node.status().hardState, st.hardState);
  net.propose('1', 'y');
  assert.deepEqual(net.get('2').applied, ['x', 'y']);
});
