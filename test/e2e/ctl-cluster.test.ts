/**
 * deimosctl against a real 3-node cluster: member list/add/update/remove and cluster-health in
 * etcdctl's words, then endpoint failover (with and without member sync) after kill -9 of a member,
 * and cluster-health reporting the degraded cluster with exit 5.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { freePorts } from '../support/ports.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ctl } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

describe('deimosctl with a 3-node cluster', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let all: string;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    all = cluster.members.map((m) => m.clientUrl).join(',');
  });
  after(async () => {
    await cluster?.destroy();
  });

  test('member list prints one line per member and marks the leader', async () => {
    const leader = await cluster.leader();
    const r = await ctl(['member', 'list', '--endpoints', all]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const m of cluster.members) {
      const id = await cluster.idOf(m);
      const line = `${id}: name=${m.name} peerURLs=${m.peerUrl} clientURLs=${m.clientUrl} isLeader=${m === leader}`;
      assert.ok(lines.includes(line), `missing ${line} in\n${r.stdout}`);
    }
  });

  test('cluster-health reports every member healthy and exits 0', async () => {
    const r = await ctl(['cluster-health', '--endpoints', all]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const m of cluster.members) {
      assert.ok(r.stdout.includes(`member ${await cluster.idOf(m)} is healthy: got healthy result from ${m.clientUrl}\n`), r.stdout);
    }
    assert.match(r.stdout, /\ncluster is healthy\n$/);
  });

  test('member add prints the new member\'s environment; update and remove report in etcdctl\'s words', async () => {
    const [p1, p2] = await freePorts(2);
    const peer = `http://127.0.0.1:${p1}`;
    // An existing member's peer URL: refused when the change is applied, as etcd does.
    await cluster.waitReconfigReady();
    const dup = await ctl(['member', 'add', 'node5', cluster.members[0]!.peerUrl, '--endpoints', all]);
    assert.deepEqual([dup.code, dup.stderr], [1, 'membership: peerURL exists\n']);
    const add = await ctl(['member', 'add', 'node4', peer, '--endpoints', all]);
    assert.equal(add.code, 0, add.stderr);
    const m = /^Added member named node4 with ID ([0-9a-f]+) to cluster\n\nDEIMOS_NAME="node4"\nDEIMOS_BOOTSTRAP_CONFIG="([^"]+)"\nDEIMOS_INITIAL_CLUSTER_STATE="existing"\n/.exec(add.stdout);
    assert.ok(m, add.stdout);
    const id = m[1]!;
    const initial = m[2]!.split(',').sort();
    assert.deepEqual(initial, [...cluster.members.map((x) => `${x.name}=${x.peerUrl}`), `node4=${peer}`].sort());

    const list = await ctl(['member', 'list', '--endpoints', all]);
    assert.ok(list.stdout.includes(`${id}[unstarted]: peerURLs=${peer}\n`), list.stdout);
    const health = await ctl(['cluster-health', '--endpoints', all]);
    assert.equal(health.code, 5);
    assert.ok(health.stdout.includes(`member ${id} is unreachable: no available published client urls\n`), health.stdout);
    assert.match(health.stdout, /\ncluster is degraded\n$/);

    // node4 never started: the strict reconfiguration check refuses any further member, as etcd's does.
    const second = await ctl(['member', 'add', 'node5', `http://127.0.0.1:${p2}`, '--endpoints', all]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^Internal Server Error: the cluster refused the change \(.*strict reconfiguration check.*\)\n$/);

    const newPeer = `http://127.0.0.1:${p2}`;
    const upd = await ctl(['member', 'update', id, newPeer, '--endpoints', all]);
    assert.deepEqual([upd.code, upd.stdout], [0, `Updated member with ID ${id} in cluster\n`], upd.stderr);
    assert.ok((await ctl(['member', 'list', '--endpoints', all])).stdout.includes(`${id}[unstarted]: peerURLs=${newPeer}\n`));

    const rm = await ctl(['member', 'remove', id, '--endpoints', all]);
    assert.deepEqual([rm.code, rm.stdout], [0, `Removed member ${id} from cluster\n`], rm.stderr);
    const again = await ctl(['member', 'remove', id, '--endpoints', all]);
    assert.deepEqual([again.code, again.stderr], [1, `Couldn't find a member in the cluster with an ID of ${id}.\n`]);
    assert.equal((await ctl(['member', 'list', '--endpoints', all])).stdout.trim().split('\n').length, 3);
  });

  test('reads and writes fail over to live members after kill -9 of one, with and without sync', async () => {
    assert.equal((await ctl(['set', '/fo/a', 'before', '--endpoints', all])).code, 0);
    const victim: DeimosProcess = await cluster.leader();
    await cluster.kill(victim);
    await cluster.leader();
    // The dead member first in the list: the client must move on to the next endpoint.
    const ordered = [victim, ...cluster.live()].map((m) => m.clientUrl).join(',');
    for (const extra of [[], ['--no-sync']]) {
      const set = await ctl(['set', '/fo/a', `after${extra.length}`, '--endpoints', ordered, ...extra]);
      assert.deepEqual([set.code, set.stdout], [0, `after${extra.length}\n`], set.stderr);
      const get = await ctl(['get', '/fo/a', '--endpoints', ordered, '--quorum', ...extra]);
      assert.deepEqual([get.code, get.stdout], [0, `after${extra.length}\n`], get.stderr);
    }
    const health = await ctl(['cluster-health', '--endpoints', ordered]);
    assert.equal(health.code, 5, health.stdout);
    const victimId = await cluster.idOf(victim);
    assert.ok(health.stdout.includes(`failed to check the health of member ${victimId} on ${victim.clientUrl}: `), health.stdout);
    assert.ok(health.stdout.includes(`member ${victimId} is unreachable: [${victim.clientUrl}] are all unreachable\n`), health.stdout);
    assert.match(health.stdout, /\ncluster is degraded\n$/);
  });

  test('only dead endpoints: exit 2', async () => {
    const dead = cluster.members.filter((m) => m.pid === undefined).map((m) => m.clientUrl).join(',');
    const r = await ctl(['get', '/fo/a', '--endpoints', dead, '--timeout', '2s']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^Error: {2}cluster is unavailable or misconfigured: [^;]*; error #0: /);
  });
});
