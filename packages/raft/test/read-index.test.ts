import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType } from '@deimos/protocol';
import { Network, bytes, text, threeNodes } from './network.js';

function reads(net: Network, id: string): Array<[string, number]> {
  return net.get(id).readStates.map((rs) => [text(rs.requestCtx), rs.index]);
}

test('a leader serves a read after one heartbeat round confirms its leadership', () => {
  const net = threeNodes();
  net.propose('1', 'a');
  const before = net.sentOf(MessageType.MsgHeartbeat).length;
  net.raw('1').readIndex(bytes('r1'));
  net.drain();
  assert.deepEqual(reads(net, '1'), [['r1', 2]]);
  assert.equal(net.sentOf(MessageType.MsgHeartbeat).length - before, 2);
});

test('a leader cut off from its quorum serves no reads', () => {
  const net = threeNodes();
  net.isolate('1');
  net.raw('1').readIndex(bytes('r1'));
  net.tick(5, ['1']);
  assert.deepEqual(reads(net, '1'), []);
});

test('reads queued while a round is in flight are all confirmed by the next single round', () => {
  const net = threeNodes();
  const hold = net.drop((m) => m.type === MessageType.MsgHeartbeatResp);
  net.raw('1').readIndex(bytes('r1'));
  net.drain();
  const roundsBefore = net.sentOf(MessageType.MsgHeartbeat).length;
  for (const ctx of ['r2', 'r3', 'r4']) net.raw('1').readIndex(bytes(ctx));
  net.drain();
  // No new round while the first one is outstanding.
  assert.equal(net.sentOf(MessageType.MsgHeartbeat).length, roundsBefore);
  hold();
  net.tick(1, ['1']);
  assert.deepEqual(reads(net, '1').map(([c]) => c), ['r1', 'r2', 'r3', 'r4']);
  // One new round (2 heartbeats) served r2..r4 together.
  assert.equal(net.sentOf(MessageType.MsgHeartbeat).length - roundsBefore, 2);
});

test('a read is not confirmed by acknowledgements of a round sent before it arrived', () => {
  const net = threeNodes();
  const hold = net.drop((m) => m.type === MessageType.MsgHeartbeatResp);
  net.raw('1').readIndex(bytes('r1'));
  net.drain();
  const staleAcks = net.sentOf(MessageType.MsgHeartbeatResp);
  hold();
  net.raw('1').readIndex(bytes('r2'));
  // Deliver only the acknowledgements of the first round.
  net.drop((m) => m.type === MessageType.MsgHeartbeat);
  for (const m of staleAcks) net.raw('1').step(m);
  net.drain();
  assert.deepEqual(reads(net, '1').map(([c]) => c), ['r1']);
});

test('a follower forwards a read to the leader and gets the read index back', () => {
  const net = threeNodes();
  net.propose('1', 'a');
  net.raw('3').readIndex(bytes('f1'));
  net.drain();
  assert.deepEqual(reads(net, '3'), [['f1', 2]]);
  assert.deepEqual(reads(net, '1'), []);
  assert.equal(net.sentOf(MessageType.MsgReadIndexResp).length, 1);
});

test('a read on a follower without a leader is dropped', () => {
  const net = new Network(['1', '2', '3']);
  net.raw('2').readIndex(bytes('x'));
  net.drain();
  assert.deepEqual(reads(net, '2'), []);
});

test('a single-node leader answers a read immediately', () => {
  const net = new Network(['1']);
  net.campaign('1');
  net.propose('1', 'a');
  net.raw('1').readIndex(bytes('solo'));
  net.drain();
  assert.deepEqual(reads(net, '1'), [['solo', 2]]);
  assert.equal(net.sentOf(MessageType.MsgHeartbeat).length, 0);
});

test('a new leader defers reads until it has committed an entry of its term', () => {
  const net = new Network(['1', '2', '3']);
  const hold = net.drop((m) => m.type === MessageType.MsgAppResp);
  net.campaign('1');
  net.raw('1').readIndex(bytes('early'));
  net.drain();
  assert.deepEqual(reads(net, '1'), []);
  hold();
  net.tick(1, ['1']);
  assert.deepEqual(reads(net, '1'), [['early', 1]]);
});

test('heartbeats retry a read round whose messages were lost', () => {
  const net = threeNodes();
  const lose = net.drop((m) => m.type === MessageType.MsgHeartbeat);
  net.raw('1').readIndex(bytes('r'));
  net.drain();
  lose();
  assert.deepEqual(reads(net, '1'), []);
  net.tick(1, ['1']);
  assert.deepEqual(reads(net, '1').map(([c]) => c), ['r']);
});

test('a read index never runs ahead of the commit index at the time of the request', () => {
  const net = threeNodes();
  net.raw('1').readIndex(bytes('before'));
  net.propose('1', 'later');
  net.drain();
  const [, index] = reads(net, '1')[0]!;
  assert.equal(index, 1);
});
