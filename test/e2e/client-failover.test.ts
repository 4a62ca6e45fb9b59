/**
 * @deimos/client against a 3-node cluster with members killed: reads and safe writes fail over to
 * the surviving members, and a resuming watch delivers every event exactly once, in order, across
 * the kill of the member it was connected to.
 *
 * e2e-lane: beside (mostly waiting for elections after kills; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosClient, DeimosError, Election, Lock, type KeysResponse } from '@deimos/client';
import { DeimosCluster, withDeadline } from '../support/deimos-cluster.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { http } from '../support/http.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

/** Creates `key` exactly once: a create is safe to retry, and a 105 after an unknown outcome means our first attempt applied. */
async function createOnce(client: DeimosClient, key: string, value: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.create(key, value);
      return;
    } catch (err) {
      if (err instanceof DeimosError && err.errorCode === 105) return;
      if (attempt >= 100) throw err;
      await new Promise((r) => setTimeout(r, 100)); // the cluster is electing a leader: try again
    }
  }
}

describe('client failover in a 3-node cluster', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  const clients: DeimosClient[] = [];
  const newClient = (endpoints: string[], sync = true) => {
    const c = new DeimosClient({ endpoints, sync, timeoutMs: 3_000 });
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
  });

  after(async () => {
    for (const c of clients) c.close();
    await cluster?.destroy();
  });

  test('sync discovers every member from one endpoint', async () => {
    const client = newClient([cluster.members[0]!.clientUrl]);
    assert.deepEqual((await client.sync()).sort(), cluster.members.map((m) => m.clientUrl).sort());
  });

  test('reads and creates keep working when the member the client uses is killed', async () => {
    const leader = await cluster.leader();
    const victim = cluster.followers(leader)[0]!;
    const others = cluster.members.filter((m) => m !== victim).map((m) => m.clientUrl);
    const client = newClient([victim.clientUrl, ...others], false);
    const key = uniqueKey('failover-read');
    await client.set(key, 'before');
    assert.equal(client.currentEndpoint, victim.clientUrl);
    await cluster.kill(victim);
    assert.equal((await client.get(key)).node?.value, 'before');
    assert.notEqual(client.currentEndpoint, victim.clientUrl, 'the client moved to a live member');
    assert.equal((await client.get(key, { quorum: true })).node?.value, 'before');
    await client.create(`${key}-2`, 'after');
    assert.equal((await client.get(`${key}-2`, { serializable: true })).node?.value, 'after');
    await cluster.restart(victim);
  });

  test('a watch resumes across the kill of its member with every event exactly once, in order', async (t) => {
    const N = 150;
    const dir = uniqueKey('failover-watch');
    const leader = await cluster.leader();
    const others = cluster.members.filter((m) => m !== leader).map((m) => m.clientUrl);
    // The watcher is pinned to the leader, the member that will be killed.
    const watcher = newClient([leader.clientUrl, ...others], false);
    const writer = newClient(others, false);
    const start = await writer.set(`${dir}/start`, '');
    const events: KeysResponse[] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const ev of watcher.watch(dir, { recursive: true, afterIndex: start.etcdIndex, signal: ac.signal })) {
        events.push(ev);
        if (events.length === N) return;
      }
    })();
    const writing = (async () => {
      for (let i = 0; i < N; i++) await createOnce(writer, `${dir}/k${String(i).padStart(4, '0')}`, String(i));
    })();
    await waitFor(() => events.length >= N / 3, { timeoutMs: 30_000, what: `${N / 3} events before the kill` });
    assert.equal(watcher.currentEndpoint, leader.clientUrl);
    await cluster.kill(leader);
    t.diagnostic(`killed ${leader.name} after ${events.length} events`);
    await writing;
    await withDeadline(watching, 30_000, `all ${N} events (got ${events.length} so far)`);
    ac.abort();
    const keys = events.map((e) => e.node!.key);
    assert.deepEqual(keys, Array.from({ length: N }, (_, i) => `${dir}/k${String(i).padStart(4, '0')}`));
    const indexes = events.map((e) => e.node!.modifiedIndex!);
    for (let i = 1; i < indexes.length; i++) assert.ok(indexes[i]! > indexes[i - 1]!, `index ${indexes[i]} after ${indexes[i - 1]}`);
    assert.notEqual(watcher.currentEndpoint, leader.clientUrl);
    await cluster.restart(leader);
  });

  test('a watch started without an index leaves a paused member and resumes from its registration', async () => {
    const key = uniqueKey('paused-watch');
    const leader = await cluster.leader();
    const follower = cluster.followers(leader)[0]!;
    const others = cluster.members.filter((m) => m !== follower).map((m) => m.clientUrl);
    const watcher = new DeimosClient({ endpoints: [follower.clientUrl, ...others], sync: false, timeoutMs: 1_000 });
    clients.push(watcher);
    const writer = newClient(others, false);
    const watchersOn = async () => ((await http('GET', `${follower.clientUrl}/v2/stats/store`)).json as { watchers: number }).watchers;
    const before = await watchersOn();
    const ac = new AbortController();
    const events: KeysResponse[] = [];
    const watching = (async () => {
      for await (const ev of watcher.watch(key, { signal: ac.signal, repollAfterMs: 1_500 })) {
        events.push(ev);
        if (events.length === 3) return;
      }
    })();
    await waitFor(async () => (await watchersOn()) > before, { timeoutMs: 5_000, what: 'the watch to register on the follower' });
    cluster.pause(follower);
    try {
      for (const v of ['a', 'b', 'c']) await writer.set(key, v);
      await withDeadline(watching, 15_000, `three events (got ${events.length})`);
    } finally {
      ac.abort();
      cluster.resume(follower);
    }
    assert.deepEqual(events.map((e) => e.node?.value), ['a', 'b', 'c']);
    assert.notEqual(watcher.currentEndpoint, follower.clientUrl);
  });

  test('a lock waiter whose member is paused gets the lock soon after it is freed (its wait checks the member every ttl/3)', async (t) => {
    const name = uniqueKey('paused-lock').slice(1);
    const leader = await cluster.leader();
    const follower = cluster.followers(leader)[0]!;
    const others = cluster.members.filter((m) => m !== follower).map((m) => m.clientUrl);
    const holder = new Lock(newClient(others, false), name, { ttl: 6 });
    await holder.acquire();
    const waiterClient = new DeimosClient({ endpoints: [follower.clientUrl, ...others], sync: false, timeoutMs: 1_000 });
    clients.push(waiterClient);
    const watchersOn = async () => ((await http('GET', `${follower.clientUrl}/v2/stats/store`)).json as { watchers: number }).watchers;
    const before = await watchersOn();
    const waiter = new Lock(waiterClient, name, { ttl: 6 });
    const acquiring = waiter.acquire();
    await waitFor(async () => (await watchersOn()) > before, { timeoutMs: 5_000, what: 'the waiter to watch on the follower' });
    cluster.pause(follower);
    try {
      const freedAt = Date.now();
      await holder.release();
      // Its watch used to stay on the paused member for the watch's default minute.
      await withDeadline(acquiring, 15_000, 'the waiter to get the lock');
      t.diagnostic(`the waiter got the lock ${Date.now() - freedAt} ms after it was freed`);
    } finally {
      cluster.resume(follower);
    }
    assert.ok(waiter.held);
    await waiter.release();
  });

  test('an election keeps its leader across the kill of the raft leader, then hands over on resign', async () => {
    const name = uniqueKey('cluster-election').slice(1);
    const raftLeader = await cluster.leader();
    const others = cluster.members.filter((m) => m !== raftLeader).map((m) => m.clientUrl);
    const lost: Error[] = [];
    // TTL 8 s: longer than a raft election here (2-4 s), so refreshes survive the failover.
    const a = new Election(newClient([raftLeader.clientUrl, ...others], false), name, { ttl: 8, onLost: (e) => lost.push(e) });
    await a.campaign('alpha');
    const b = new Election(newClient(others, false), name, { ttl: 8 });
    let bLeads = false;
    const bCampaign = b.campaign('bravo').then(() => (bLeads = true));
    const observer = newClient(others, false);
    await waitFor(async () => (await observer.get(a.dir)).node?.nodes?.length === 2, { timeoutMs: 5_000, what: 'bravo to queue' });
    await cluster.kill(raftLeader);
    await cluster.leader({ timeoutMs: 20_000 });
    // Through two refresh periods after the new raft leader: alpha still leads, bravo still waits.
    const until = Date.now() + 6_000;
    await waitFor(() => Date.now() > until || lost.length > 0 || bLeads, { timeoutMs: 10_000, intervalMs: 200, what: 'two refresh periods' });
    assert.deepEqual(lost, []);
    assert.equal(bLeads, false);
    assert.ok(a.isLeader);
    assert.equal(await new Election(observer, name).leader(), 'alpha');
    await a.resign();
    await withDeadline(bCampaign, 10_000, 'bravo to lead after alpha resigned');
    await b.resign();
    await cluster.restart(raftLeader);
  });
});
