/** A simulated node keeps exactly what it persisted across a crash, and nothing more. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Cluster } from './cluster.js';
import { encodeOp } from './kv-machine.js';
import { RELIABLE } from './network.js';
import { SimRng } from './rng.js';
import type { CrashPoint, NodeTuning } from './sim-node.js';
import { Trace } from './trace.js';

const TUNING: NodeTuning = {
  electionTicks: 10, heartbeatTicks: 1, checkQuorum: false, preVote: false,
  maxSizePerMsg: 1 << 20, maxInflightMsgs: 256, maxUncommittedEntriesSize: Number.POSITIVE_INFINITY,
  maxCommittedSizePerReady: 1 << 20, snapshotEveryEntries: 1000, snapshotKeepEntries: 0,
  leaderSendsBeforePersist: false,
};

/** A one-node cluster with an elected leader; returns it with its durable last index. */
function singleNodeLeader(): { cluster: Cluster; last: () => number } {
  const cluster = new Cluster(new SimRng(1), { voters: ['1'], learners: [] }, TUNING, RELIABLE, new Trace(0));
  const n = cluster.addNode('1');
  n.node().campaign();
  cluster.drain(n);
  assert.ok(n.isLeader);
  return { cluster, last: () => n.durable.lastIndex() };
}

function proposeAndCrash(point: CrashPoint): { before: number; after: number; value: string | undefined } {
  const { cluster, last } = singleNodeLeader();
  const n = cluster.nodes.get('1')!;
  const before = last();
  cluster.crash('1', point);
  n.node().propose(encodeOp({ key: 'k', value: 'v', id: 1 }));
  cluster.drain(n);
  assert.equal(n.running, false);
  cluster.restart('1');
  const after = last();
  // Let it elect itself again and commit whatever survived.
  for (let i = 0; i < 100; i++) {
    n.node().tick();
    cluster.drain(n);
  }
  return { before, after, value: n.kv.map.get('k') };
}

describe('SimNode', () => {
  test('loses entries that were not persisted when it crashed', () => {
    const r = proposeAndCrash('before-persist');
    assert.equal(r.after, r.before);
    assert.equal(r.value, undefined);
  });

  test('keeps persisted entries across a crash and re-applies them after restart', () => {
    const r = proposeAndCrash('after-persist');
    assert.equal(r.after, r.before + 1);
    assert.equal(r.value, 'v');
  });

  test('restarts from its snapshot and the entries after it', () => {
    const cluster = new Cluster(new SimRng(1), { voters: ['1'], learners: [] }, { ...TUNING, snapshotEveryEntries: 3 }, RELIABLE, new Trace(0));
    const n = cluster.addNode('1');
    n.node().campaign();
    cluster.drain(n);
    for (let i = 1; i <= 7; i++) {
      n.node().propose(encodeOp({ key: `k${i}`, value: `v${i}`, id: i }));
      cluster.drain(n);
    }
    assert.ok(n.durable.snapshotIndex() >= 3);
    const digest = n.kv.digest;
    const applied = n.applied;
    cluster.crash('1');
    cluster.restart('1');
    assert.equal(n.applied, applied);
    assert.equal(n.kv.digest, digest);
    assert.equal(n.kv.map.get('k7'), 'v7');
  });
});
