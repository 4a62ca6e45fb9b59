/**
 * deimos-proxy with `--client-workers 2` (and `deimos --proxy on` with DEIMOS_CLIENT_WORKERS) in
 * front of a real member: the workers share the listening port and both forward, `/metrics` sums
 * every worker's counters whichever worker answers it, a worker killed with -9 under a write load is
 * started again while the proxy keeps serving, a start that cannot listen exits with the proxy's
 * code and message, a read-only proxy's workers refuse writes, `--max-client-conns` bounds the
 * whole proxy (not each worker), and SIGTERM ends every process. In front of scripted members
 * (whose records tell the workers apart by their hop header): the primary's one discovery polls
 * the members once for all workers, logs a stopped member once, and its list and marks reach every
 * worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { DeimosProcess } from '../support/deimos-process.js';
import { assertAllAcked, WriteLoad } from '../support/deimos-cluster.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { childPids, fresh, isAlive, metricValue } from '../support/client-workers.js';
import { FakeMember } from '../support/fake-member.js';
import { RawConnection } from '../support/raw-connection.js';
import { freshGet } from '../support/raw-requests.js';

const SKIP = IS_EXTERNAL ? 'needs its own processes' : false;

describe('deimos-proxy with worker processes', { skip: SKIP }, () => {
  let member: DeimosProcess;
  let proxy: ProxyProcess;

  before(async () => {
    member = await DeimosProcess.start({ args: ['--client-workers', '0'] });
    proxy = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl, '--client-workers', '2'] });
    await waitFor(() => childPids(proxy.child.pid!).length === 2, { timeoutMs: 10_000, what: 'two proxy workers' });
  });

  after(async () => {
    await proxy?.stop();
    await member?.destroy();
  });

  test('both workers forward, and /metrics sums every worker\'s counters', async () => {
    const pids = childPids(proxy.child.pid!);
    // Each request on a fresh connection: the kernel gives connections to either worker.
    for (let i = 0; i < 40; i++) assert.equal((await fresh('PUT', `${proxy.url}/v2/keys/pw/k${i}`, { value: String(i) })).status, 201);
    for (let i = 0; i < 40; i++) assert.equal(JSON.parse((await fresh('GET', `${proxy.url}/v2/keys/pw/k${i}`)).body).node.value, String(i));
    const before = metricValue((await fresh('GET', `${proxy.url}/metrics`)).body, 'deimos_proxy_requests_received_total')!;
    for (let i = 0; i < 10; i++) await fresh('GET', `${proxy.url}/v2/keys/pw/k${i}`);
    // Every answer (whichever worker gives it) counts every request: the 10 reads and its own.
    for (let i = 0; i < 6; i++) {
      const text = (await fresh('GET', `${proxy.url}/metrics`)).body;
      assert.equal(metricValue(text, 'deimos_proxy_requests_received_total'), before + 11 + i, text);
      assert.equal(metricValue(text, 'deimos_proxy_workers'), 2);
      assert.equal(metricValue(text, 'deimos_proxy_workers_up'), 2);
      // One HELP and one TYPE per family after the merge.
      assert.equal(text.split('\n').filter((l) => l === '# TYPE deimos_proxy_requests_received_total counter').length, 1);
    }
    assert.deepEqual(childPids(proxy.child.pid!), pids, 'no worker restarted');
  });

  test('kill -9 of one worker under writes: the proxy keeps serving and starts it again; nothing acknowledged is lost', async () => {
    const [victim, other] = childPids(proxy.child.pid!);
    // The load writes through the proxy (it only needs a client URL and a name).
    const viaProxy = { clientUrl: proxy.url, name: 'proxy', clientTls: undefined } as unknown as DeimosProcess;
    const load = new WriteLoad('/pw-faults', 6, () => [viaProxy]);
    try {
      await waitFor(() => load.count >= 50, { timeoutMs: 10_000, what: '50 acknowledged writes' });
      process.kill(victim!, 'SIGKILL');
      const at = load.count;
      await waitFor(() => load.count >= at + 100, { timeoutMs: 10_000, what: '100 more writes after the kill' });
      await waitFor(() => !isAlive(victim!) && childPids(proxy.child.pid!).length === 2, { timeoutMs: 10_000, what: 'the worker to be started again' });
      assert.ok(childPids(proxy.child.pid!).includes(other!), 'the other worker kept running');
      await waitFor(async () => metricValue((await fresh('GET', `${proxy.url}/metrics`)).body, 'deimos_proxy_worker_restarts_total') === 1, { timeoutMs: 5000, what: 'one restart counted' });
    } finally {
      await load.stop();
    }
    await assertAllAcked(member, '/pw-faults', load.acked);
  });

  test('a read-only proxy with workers (deimos --proxy readonly) forwards reads and refuses writes', async () => {
    const ro = await ProxyProcess.start({ viaServer: true, args: ['--proxy', 'readonly', '--endpoints', member.clientUrl], env: { DEIMOS_CLIENT_WORKERS: '2' } });
    try {
      await waitFor(() => childPids(ro.child.pid!).length === 2, { timeoutMs: 10_000, what: 'two workers' });
      for (let i = 0; i < 6; i++) {
        assert.equal((await fresh('GET', `${ro.url}/v2/keys/pw/k1`)).status, 200);
        assert.equal((await fresh('PUT', `${ro.url}/v2/keys/pw/ro`, { value: 'x' })).status, 501);
      }
    } finally {
      await ro.stop();
    }
  });

  test('--max-client-conns bounds the proxy\'s connections across its workers; a freed slot is served again', async () => {
    const bounded = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl, '--client-workers', '2', '--max-client-conns', '4'] });
    const held: RawConnection[] = [];
    try {
      await waitFor(() => childPids(bounded.child.pid!).length === 2, { timeoutMs: 10_000, what: 'two workers' });
      const text = (await fresh('GET', `${bounded.url}/metrics`)).body;
      assert.equal(metricValue(text, 'deimos_proxy_client_connections_limit'), 4, 'the bound once, not once per worker');
      // Four idle watches (whichever workers take them) fill the bound. A connection closed just
      // before (the /metrics above) gives its slot back when its close reaches the primary: a watch
      // refused meanwhile is asked again, so that exactly four are held.
      for (let i = 0; i < 4; i++) {
        await waitFor(async () => {
          const c = await RawConnection.open(bounded.url);
          c.send('GET /v2/keys/pw/never?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          await c.until(() => c.text.includes('\r\n\r\n') || c.closed, 'the watch head');
          if (c.text.startsWith('HTTP/1.1 200 ')) {
            held.push(c);
            return true;
          }
          c.destroy();
          return false;
        }, { timeoutMs: 10_000, what: `watch ${i + 1} to be held` });
      }
      await waitFor(async () => (await freshGet(bounded.url, '/v2/keys/pw/k1'))?.status === 503, { timeoutMs: 10_000, what: 'a fifth connection to be refused' });
      for (let i = 0; i < 6; i++) assert.equal((await freshGet(bounded.url, '/v2/keys/pw/k1'))?.status, 503, 'every further connection, on any worker');
      held.pop()!.destroy();
      await waitFor(async () => (await freshGet(bounded.url, '/v2/keys/pw/k1'))?.status === 200, { timeoutMs: 10_000, what: 'the freed slot to be served' });
      // (The slot of the previous request comes back when its close reaches the primary.)
      let metricsText = '';
      await waitFor(async () => {
        const r = await freshGet(bounded.url, '/metrics');
        metricsText = r?.status === 200 ? r.body : '';
        return metricsText !== '';
      }, { timeoutMs: 10_000, what: '/metrics' });
      const refused = metricValue(metricsText, 'deimos_proxy_client_connections_refused_total');
      assert.ok(refused !== undefined && refused >= 7, `refusals counted across workers: ${refused}`);
    } finally {
      for (const c of held) c.destroy();
      await bounded.stop();
    }
  });

  test('SIGTERM ends the primary and every worker, with exit code 0', async () => {
    const extra = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl, '--client-workers', '2'] });
    await waitFor(() => childPids(extra.child.pid!).length === 2, { timeoutMs: 10_000, what: 'two workers' });
    const workers = childPids(extra.child.pid!);
    await extra.stop();
    assert.equal(extra.exitCode, 0, extra.output);
    await waitFor(() => workers.every((pid) => !isAlive(pid)), { timeoutMs: 5000, what: 'the workers to exit' });
  });

  test('a proxy whose port is taken exits with 1 and says why, instead of restarting workers forever', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as { port: number }).port;
      const r = await ProxyProcess.runOnce(['--listen-client-urls', `http://127.0.0.1:${port}`, '--endpoints', member.clientUrl, '--client-workers', '2'], { timeoutMs: 20_000 });
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /deimos-proxy: cannot start: .*127\.0\.0\.1:\d+/);
    } finally {
      taken.close();
    }
  });
});

/** The workers (their hop header values) that sent `member` the requests from the `since`th on. */
function workersSeenBy(member: FakeMember, since = 0): Set<string> {
  return new Set(member.seen.slice(since).map((r) => String(r.headers['x-deimos-proxy'])));
}

/** Reads `n` keys through the proxy, each on a connection of its own (so either worker may take it). */
async function freshReads(proxy: ProxyProcess, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await fresh('GET', `${proxy.url}/v2/keys/d${i}`)).status, 200);
}

describe('deimos-proxy with worker processes and one discovery, in its primary', { skip: SKIP }, () => {
  const members: FakeMember[] = [];
  const proxies: ProxyProcess[] = [];

  after(async () => {
    for (const p of proxies) await p.stop();
    for (const m of members) await m.stop();
  });

  const start = async (args: string[]): Promise<ProxyProcess> => {
    const proxy = await ProxyProcess.start({ args: [...args, '--client-workers', '2'] });
    proxies.push(proxy);
    await waitFor(() => proxy.output.includes('proxy workers serving'), { timeoutMs: 10_000, what: 'both workers to serve' });
    return proxy;
  };
  const member = async (): Promise<FakeMember> => {
    const m = await FakeMember.start();
    members.push(m);
    return m;
  };

  test('the members are polled once for both workers, and the list is logged once', async () => {
    const [a, b] = [await member(), await member()];
    a.memberUrls = b.memberUrls = [a.url, b.url];
    const proxy = await start(['--endpoints', a.url, '--refresh-interval', '1h']);
    // One refresh: a's list, then b asked once to check it is of the same cluster.
    assert.deepEqual([a.membersAsked, b.membersAsked], [1, 1]);
    assert.equal(proxy.output.split('\n').filter((l) => l.includes('member list updated')).length, 1, proxy.output);
    await freshReads(proxy, 20);
    assert.equal(workersSeenBy(a).size + workersSeenBy(b).size >= 2, true, 'both workers forward');
  });

  test('a stopped member is logged down once, by the primary, and skipped by every worker; a member added reaches every worker, one removed leaves them all', async () => {
    const [slow, fast, added] = [await member(), await member(), await member()];
    // Every worker prefers the faster member, so each would send its next read to it if it did not know it is down.
    slow.answerDelayMs = 30;
    slow.memberUrls = fast.memberUrls = added.memberUrls = [slow.url, fast.url];
    const proxy = await start(['--endpoints', slow.url, '--refresh-interval', '300ms', '--failure-wait', '60s']);
    const metric = async (name: string, url: string): Promise<number> =>
      Number(new RegExp(`${name}\\{upstream="${url}"\\} (\\d+)`).exec((await fresh('GET', `${proxy.url}/metrics`)).body)?.[1] ?? 0);
    await waitFor(async () => {
      await freshReads(proxy, 4);
      return workersSeenBy(fast).size === 2;
    }, { timeoutMs: 20_000, what: 'both workers to prefer the faster member' });

    await fast.stop();
    await waitFor(async () => {
      await freshReads(proxy, 1);
      return proxy.output.includes(`member=${fast.url}`);
    }, { timeoutMs: 20_000, what: 'the stopped member to be found down' });
    // A /metrics answer needs every worker's text, sent after the list they were pushed before it.
    const failures = await metric('deimos_proxy_upstream_failures_total', fast.url);
    assert.equal(await metric('deimos_proxy_upstream_up', fast.url), 0);
    const slowSince = slow.seen.length;
    await waitFor(async () => {
      await freshReads(proxy, 4);
      return workersSeenBy(slow, slowSince).size === 2;
    }, { timeoutMs: 20_000, what: 'both workers to read from the other member' });
    assert.equal(await metric('deimos_proxy_upstream_failures_total', fast.url), failures, 'no worker tried the stopped member again');
    const lines = proxy.output.split('\n').filter((l) => l.includes(`member=${fast.url}`));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /deimos-proxy\[on\]: member is down/, 'logged by the primary, not a worker');

    slow.memberUrls = added.memberUrls = [slow.url, added.url];
    await waitFor(async () => JSON.stringify(await proxy.upstreams()) === JSON.stringify([slow.url, added.url].sort()), { timeoutMs: 10_000, what: 'the new list' });
    // A member new to a worker is tried first: both workers send it reads once they have it.
    await waitFor(async () => {
      await freshReads(proxy, 4);
      return workersSeenBy(added).size === 2;
    }, { timeoutMs: 20_000, what: 'both workers to forward to the added member' });

    slow.memberUrls = added.memberUrls = [slow.url];
    await waitFor(async () => JSON.stringify(await proxy.upstreams()) === JSON.stringify([slow.url]), { timeoutMs: 10_000, what: 'the member to be removed' });
    const addedSeen = added.seen.length;
    const slowSince2 = slow.seen.length;
    await waitFor(async () => {
      await freshReads(proxy, 4);
      return workersSeenBy(slow, slowSince2).size === 2;
    }, { timeoutMs: 20_000, what: 'both workers to read from the one member left' });
    assert.equal(added.seen.length, addedSeen, 'no worker sent the removed member anything');
  });
});
