/**
 * deimos-proxy in front of a real 3-member cluster: writes and reads through it, a member killed with
 * -9 while clients read (no client-visible errors), a member added at runtime getting traffic after
 * the next refresh (and a removed one dropped), and watches through the proxy.
 *
 * e2e-lane: beside (mostly waiting: 7 s of CPU in 15 s alone; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';
import { Watch } from '../support/watch.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

/** Clients reading through the proxy in a loop; every non-200 or socket error is recorded. */
class ReadLoad {
  ok = 0;
  readonly errors: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(url: string, keys: string[], clients: number) {
    this.loops = Array.from({ length: clients }, async (_, c) => {
      for (let i = c; this.running; i++) {
        const key = keys[i % keys.length]!;
        try {
          const res = await http('GET', `${url}/v2/keys${key}`, { timeoutMs: 15_000 });
          if (res.status === 200) this.ok += 1;
          else this.errors.push(`${res.status} ${res.body.slice(0, 200)}`);
        } catch (err) {
          this.errors.push((err as Error).message);
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('deimos-proxy in front of a 3-member cluster', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let proxy: ProxyProcess;
  const prefix = uniqueKey('proxy');

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    // One seed only: the other members are discovered from /v2/members.
    proxy = await ProxyProcess.start({ args: ['--endpoints', cluster.members[0]!.clientUrl, '--refresh-interval', '1s', '--failure-wait', '3s'] });
  });

  after(async () => {
    await proxy?.stop();
    await cluster?.destroy();
  });

  test('discovers every member from one seed endpoint', async () => {
    const expected = cluster.members.map((m) => m.clientUrl).sort();
    await waitFor(async () => JSON.stringify(await proxy.upstreams()) === JSON.stringify(expected), { timeoutMs: 10_000, what: 'the proxy to list all 3 members' });
  });

  test('serves writes and reads, with the cluster index headers', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await http('PUT', `${proxy.url}/v2/keys${prefix}/k${i}`, { form: { value: `v${i}` } });
      assert.equal(res.status, 201, res.body);
      assert.equal(res.headers['x-etcd-index'], String(res.json.node.modifiedIndex));
      assert.ok(res.headers['x-raft-term'], 'X-Raft-Term passes through');
      assert.ok(res.headers['x-etcd-cluster-id'], 'X-Etcd-Cluster-Id passes through');
    }
    for (let i = 0; i < 20; i++) {
      const res = await http('GET', `${proxy.url}/v2/keys${prefix}/k${i}`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.node.value, `v${i}`);
    }
    const list = await http('GET', `${proxy.url}/v2/keys${prefix}?recursive=true`);
    assert.equal(list.json.node.nodes.length, 20);
    const missing = await http('GET', `${proxy.url}/v2/keys${prefix}/nope`);
    assert.equal(missing.status, 404, 'member errors pass through unchanged');
    assert.equal(missing.json.errorCode, 100);
    for (const path of ['/v2/members', '/v2/stats/self', '/v2/stats/store', '/version', '/health', '/v2/machines']) {
      assert.equal((await http('GET', `${proxy.url}${path}`)).status, 200, path);
    }
  });

  test('keeps serving reads when a member is killed with -9', async () => {
    const leader = await cluster.leader();
    const victim = cluster.followers(leader)[0]!;
    const keys = Array.from({ length: 20 }, (_, i) => `${prefix}/k${i}`);
    // Eight clients: a proxy with worker processes (DEIMOS_PROXY_CLIENT_WORKERS) spreads reads over
    // the members only where several are in flight in one worker, and the kernel may give one
    // worker most of the clients' connections.
    const load = new ReadLoad(proxy.url, keys, 8);
    try {
      await waitFor(async () => (await proxy.requestsTo(victim.clientUrl)) > 20 && load.ok > 100, { timeoutMs: 15_000, what: 'reads flowing to every member' });
      const okBefore = load.ok;
      await cluster.kill(victim);
      await waitFor(() => load.ok > okBefore + 300, { timeoutMs: 20_000, what: '300 more reads after the kill' });
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.errors.slice(0, 5), [], `${load.errors.length} client-visible read errors`);
    assert.match(await proxy.metrics(), new RegExp(`deimos_proxy_upstream_up\\{upstream="${victim.clientUrl}"\\} 0`), 'the killed member is marked failed');
    const write = await http('PUT', `${proxy.url}/v2/keys${prefix}/after-kill`, { form: { value: 'x' } });
    assert.equal(write.status, 201, write.body);
    await cluster.restart(victim);
  });

  test('sends traffic to a member added at runtime after the next refresh, and drops a removed one', async () => {
    const { member } = await cluster.addMember('node4');
    await waitFor(async () => (await proxy.upstreams()).includes(member.clientUrl), { timeoutMs: 10_000, what: 'the proxy to list node4' });
    await waitFor(async () => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => http('GET', `${proxy.url}/v2/keys${prefix}/k${i}`)));
      return (await proxy.requestsTo(member.clientUrl)) > 0;
    }, { timeoutMs: 10_000, what: 'reads forwarded to node4' });
    await cluster.removeMember(member);
    await waitFor(async () => !(await proxy.upstreams()).includes(member.clientUrl), { timeoutMs: 10_000, what: 'the proxy to drop node4' });
  });

  test('a long-poll watch through the proxy delivers the next event', async () => {
    const key = `${prefix}/watched`;
    const watch = await Watch.open(`${proxy.url}/v2/keys${key}?wait=true`);
    try {
      assert.equal(watch.status, 200);
      const target: DeimosProcess = cluster.live()[0]!;
      await http('PUT', `${target.clientUrl}/v2/keys${key}`, { form: { value: 'hello' } });
      const event = await watch.next();
      assert.equal(event.action, 'set');
      assert.equal(event.node.value, 'hello');
    } finally {
      watch.close();
    }
  });

  test('a stream watch through the proxy delivers every event and closes when the client leaves', async () => {
    const key = `${prefix}/streamed`;
    const watch = await Watch.open(`${proxy.url}/v2/keys${key}?wait=true&stream=true`);
    for (let i = 0; i < 5; i++) await http('PUT', `${proxy.url}/v2/keys${key}`, { form: { value: `s${i}` } });
    for (let i = 0; i < 5; i++) assert.equal((await watch.next()).node.value, `s${i}`);
    watch.close();
    const stats = async () => {
      const all = await Promise.all(cluster.live().map(async (m) => (await http('GET', `${m.clientUrl}/v2/stats/store`)).json.watchers as number));
      return all.reduce((a, b) => a + b, 0);
    };
    await waitFor(async () => (await stats()) === 0, { timeoutMs: 10_000, what: 'the member to drop the watcher once the client left' });
  });
});
