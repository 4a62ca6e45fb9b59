/**
 * A 3-member cluster whose members each run two client workers: a linearizable read through any
 * member and any worker sees every write acknowledged before it through any other, and a watch
 * held by one member's worker is woken by a write through another member.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_DEFAULT_ARGS, DeimosCluster } from '../support/deimos-cluster.js';
import { Watch } from '../support/watch.js';
import { fresh } from '../support/client-workers.js';

let cluster: DeimosCluster;
const watches: Watch[] = [];

before(async () => {
  cluster = await DeimosCluster.start({ args: [...CLUSTER_DEFAULT_ARGS, '--client-workers', '2', '--commit-thread', 'on', '--peer-thread', 'on'] });
});

after(async () => {
  for (const w of watches) w.close();
  await cluster?.destroy();
});

test('a linearizable read through any member sees each write acknowledged through another', async () => {
  const members = cluster.members;
  for (let i = 0; i < 30; i++) {
    const writer = members[i % 3]!;
    const reader = members[(i + 1 + (i % 2)) % 3]!;
    const w = await fresh('PUT', `${writer.clientUrl}/v2/keys/lin`, { value: String(i) });
    assert.ok(w.status === 200 || w.status === 201, w.body);
    const r = await fresh('GET', `${reader.clientUrl}/v2/keys/lin`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.node.value, String(i), `write ${i} through ${writer.name}, read through ${reader.name}`);
    assert.equal(r.json.node.modifiedIndex, w.json.node.modifiedIndex);
  }
});

test('a write through one member wakes watches held by every worker of another', async () => {
  const [a, , c] = cluster.members;
  const ws = await Promise.all(Array.from({ length: 6 }, () => Watch.open(`${c!.clientUrl}/v2/keys/cw?wait=true`)));
  watches.push(...ws);
  const w = await fresh('PUT', `${a!.clientUrl}/v2/keys/cw`, { value: 'x' });
  for (const watch of ws) assert.equal((await watch.next(10_000)).node.modifiedIndex, w.json.node.modifiedIndex);
});

test('a follower killed and restarted is dialled again through the peer socket thread and catches up', async () => {
  for (const m of cluster.members) assert.match(m.output, /peerThread=true/, `${m.name} writes its peer streams on the thread`);
  const leader = await cluster.leader();
  const follower = cluster.followers(leader)[0]!;
  await follower.kill();
  for (let i = 0; i < 20; i++) {
    const w = await fresh('PUT', `${leader.clientUrl}/v2/keys/while-down/k${i}`, { value: String(i) });
    assert.ok(w.status === 201, w.body);
  }
  await follower.restart();
  // A linearizable read through the restarted member waits until it has every write above.
  const r = await fresh('GET', `${follower.clientUrl}/v2/keys/while-down?recursive=true`, undefined, 30_000);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.node.nodes.length, 20);
  const w = await fresh('PUT', `${follower.clientUrl}/v2/keys/after-restart`, { value: 'x' });
  assert.ok(w.status === 201, w.body);
});
