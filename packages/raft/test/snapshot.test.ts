import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, MessageType, type Snapshot } from '@deimos/protocol';
import { CompactedError, MemoryStorage, ProgressState, SnapshotTemporarilyUnavailableError } from '@deimos/raft';
import { Network, cc, threeNodes } from './network.js';

function laggingFollower(): Network {
  const net = threeNodes();
  const heal = net.isolate('3');
  for (const v of ['a', 'b', 'c', 'd']) net.propose('1', v);
  net.snapshotAndCompact('1');
  heal();
  return net;
}

test('a follower whose next entry was compacted away is sent a snapshot and catches up', () => {
  const net = laggingFollower();
  net.tick(1, ['1']);
  const snaps = net.sentOf(MessageType.MsgSnap);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]!.to, '3');
  assert.equal(snaps[0]!.snapshot!.metadata.index, 5);
  assert.deepEqual(net.get('3').applied, ['a', 'b', 'c', 'd']);
  net.propose('1', 'e');
  assert.deepEqual(net.get('3').applied, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(net.raw('1').status().progress.get('3')!.state, ProgressState.Replicate);
});

test('a follower restores the configuration carried by the snapshot', () => {
  const net = threeNodes();
  const heal = net.isolate('3');
  net.raw('1').proposeConfChange(cc(ConfChangeType.AddLearnerNode, '4'));
  net.drain();
  net.propose('1', 'a');
  net.snapshotAndCompact('1');
  heal();
  net.tick(1, ['1']);
  assert.deepEqual(net.raw('3').status().confState, { voters: ['1', '2', '3'], learners: ['4'] });
  assert.deepEqual(net.get('3').confState, { voters: ['1', '2', '3'], learners: ['4'] });
});

test('the leader stays in snapshot state until the snapshot is reported, then probes', () => {
  const net = laggingFollower();
  net.reportSnapshots = false;
  const lose = net.drop((m) => m.type === MessageType.MsgSnap);
  net.tick(1, ['1']);
  assert.equal(net.raw('1').status().progress.get('3')!.state, ProgressState.Snapshot);
  net.tick(3, ['1']);
  assert.equal(net.sentOf(MessageType.MsgSnap).length, 1, 'no second snapshot while one is pending');
  net.raw('1').reportSnapshot('3', 1);
  assert.equal(net.raw('1').status().progress.get('3')!.state, ProgressState.Probe);
  lose();
  net.tick(2, ['1']);
  assert.deepEqual(net.get('3').applied, ['a', 'b', 'c', 'd']);
});

test('a leader skips sending a snapshot while it is temporarily unavailable', () => {
  const net = laggingFollower();
  const storage = net.get('1').storage;
  let unavailable = true;
  const original = storage.snapshot.bind(storage);
  storage.snapshot = (): Snapshot => {
    if (unavailable) throw new SnapshotTemporarilyUnavailableError();
    return original();
  };
  net.tick(2, ['1']);
  assert.equal(net.sentOf(MessageType.MsgSnap).length, 0);
  assert.equal(net.raw('1').status().progress.get('3')!.state, ProgressState.Probe);
  unavailable = false;
  net.tick(1, ['1']);
  assert.deepEqual(net.get('3').applied, ['a', 'b', 'c', 'd']);
});

test('a node restarts from a snapshot in its storage', () => {
  const net = laggingFollower();
  net.tick(1, ['1']);
  const restarted = net.restart('3');
  assert.equal(restarted.node.status().hardState.commit >= 5, true);
  net.propose('1', 'e');
  assert.deepEqual(net.get('3').applied, ['a', 'b', 'c', 'd', 'e']);
});

test('MemoryStorage refuses entries below its snapshot and out-of-date snapshots', () => {
  const s = new MemoryStorage();
  s.append([1, 2, 3].map((i) => ({ term: 1, index: i, type: 0, data: new Uint8Array(0) })));
  s.createSnapshot(2, { voters: ['1'], learners: [] }, new Uint8Array(0));
  s.compact(2);
  assert.throws(() => s.term(1), CompactedError);
  assert.throws(() => s.entries(2, 3, 100), CompactedError);
  assert.equal(s.firstIndex(), 3);
  assert.throws(() => s.applySnapshot(s.snapshot()), { code: 'ERR_SNAP_OUT_OF_DATE' });
});
