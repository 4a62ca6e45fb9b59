/**
 * A proxy with workers runs one discovery, in its primary (primary-discovery.ts), and each worker
 * applies what it pushes (worker-member-list.ts). Here the two ends talk through plain function
 * calls in place of cluster's IPC channel, with the messages as they are sent there, and discovery
 * asks real loopback HTTP servers that answer `/v2/members` as members do.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointPool, type Endpoint } from '../src/endpoint-pool.js';
import type { ProxyLogger } from '../src/logger.js';
import { PrimaryDiscovery, type WorkerSend } from '../src/primary-discovery.js';
import { parseProxyArgs, type ProxyConfig } from '../src/proxy-config.js';
import type { ProxyWorkerMessage } from '../src/proxy-worker-message.js';
import { WorkerMemberList } from '../src/worker-member-list.js';

const FAILURE_WAIT_MS = 5000;

/** Loopback servers answering `GET /v2/members` with `list` (their client URLs) and one cluster ID. */
const servers: Server[] = [];
const urls: string[] = [];
let list: string[] = [];

before(async () => {
  for (let i = 0; i < 3; i++) {
    const server = createServer((req, res) => {
      const body = JSON.stringify({ members: list.map((url, n) => ({ id: String(n + 1), name: `m${n}`, peerURLs: [], clientURLs: [url] })) });
      res.writeHead(req.url === '/v2/members' ? 200 : 404, { 'Content-Type': 'application/json', 'X-Etcd-Cluster-Id': 'c0ffee' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  urls.sort();
});

after(() => {
  for (const s of servers) s.close();
});

/** A logger that keeps `level message member` lines. */
function recordingLogger(): { logger: ProxyLogger; lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push(`${level} ${msg} ${String(fields?.member ?? '')}`.trim());
  return { logger: { debug: () => undefined, info: keep('info'), warn: keep('warn'), error: keep('error') }, lines };
}

/** One worker: its pool, and its end of the member list wired to the primary. */
interface TestWorker {
  pool: EndpointPool;
  list: WorkerMemberList;
  send: WorkerSend;
  ep(url: string): Endpoint;
}

function connect(primary: PrimaryDiscovery, now: () => number): TestWorker {
  // The worker's end is made first: the primary's answers go to it.
  const w = {} as TestWorker;
  w.send = (m: ProxyWorkerMessage) => w.list.receive(m);
  w.list = new WorkerMemberList((m) => primary.receive(m, w.send));
  w.pool = new EndpointPool(FAILURE_WAIT_MS, now, w.list);
  w.ep = (url) => w.pool.all().find((e) => e.url === url)!;
  return w;
}

/** Lets the primary's coalesced push (one per event-loop turn) go out. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function config(): ProxyConfig {
  const request = parseProxyArgs(['--endpoints', urls[0]!, '--refresh-interval', '1h', '--failure-wait', `${FAILURE_WAIT_MS / 1000}s`], {});
  assert.equal(request.kind, 'run');
  return request.config;
}

test('workers get the primary\'s list; a failure one reports is logged once and skipped by all; an answer ends it everywhere', async () => {
  let now = 1_000_000;
  const clock = () => now;
  list = [urls[0]!, urls[1]!];
  const { logger, lines } = recordingLogger();
  const primary = new PrimaryDiscovery(config(), { client: {}, peer: {} }, logger, clock);
  const [a, b] = [connect(primary, clock), connect(primary, clock)];
  const listening = [{ address: '127.0.0.1', port: 1 }];
  try {
    await Promise.all([a.list.start(a.pool, listening), b.list.start(b.pool, listening)]);
    assert.deepEqual(a.pool.urls(), [urls[0], urls[1]]);
    assert.deepEqual(b.pool.urls(), [urls[0], urls[1]]);

    const dead = urls[1]!;
    now += 10;
    a.pool.markFailed(a.ep(dead), 'ECONNREFUSED');
    now += 10;
    b.pool.markFailed(b.ep(dead), 'ECONNREFUSED');
    a.pool.markFailed(a.ep(dead), 'ECONNREFUSED');
    await nextTurn();
    assert.deepEqual(lines.filter((l) => l.includes('is down')), [`warn member is down; skipping it, and trying it again after each failure wait ${dead}`]);
    assert.deepEqual(primary.upstreams(), [{ url: urls[0], failed: false }, { url: dead, failed: true }]);

    // A worker started now gets the list with its marks at once, and skips the dead member too.
    const c = connect(primary, clock);
    await c.list.start(c.pool, listening);
    assert.equal(c.pool.isFailed(c.ep(dead)), true);
    assert.equal(c.pool.pick(), c.ep(urls[0]!));

    // The member answers worker a after the failure wait: the outage ends, once, for every worker.
    now += FAILURE_WAIT_MS;
    assert.equal(a.pool.pick(new Set([a.ep(urls[0]!)])), a.ep(dead), 'tried again after the failure wait');
    a.pool.recordLatency(a.ep(dead), 2);
    await nextTurn();
    assert.deepEqual(lines.filter((l) => l.includes('is back')), [`info member is back ${dead}`]);
    for (const w of [a, b, c]) assert.equal(w.pool.isFailed(w.ep(dead)), false);
    b.pool.recordLatency(b.ep(dead), 2);
    c.pool.recordLatency(c.ep(dead), 2);
    await nextTurn();
    assert.equal(lines.filter((l) => l.includes('is back')).length, 1, 'answers after the outage are not news');
    assert.equal(lines.filter((l) => l.includes('member is')).length, 2, lines.join('\n'));
  } finally {
    primary.stop();
  }
});

test('a worker\'s own failure mark stays until the member answers after it, and a refresh it asks for reaches every worker', async () => {
  let now = 2_000_000;
  const clock = () => now;
  list = [urls[0]!, urls[1]!];
  const { logger } = recordingLogger();
  const primary = new PrimaryDiscovery(config(), { client: {}, peer: {} }, logger, clock);
  const [a, b] = [connect(primary, clock), connect(primary, clock)];
  const listening = [{ address: '127.0.0.1', port: 1 }];
  try {
    await Promise.all([a.list.start(a.pool, listening), b.list.start(b.pool, listening)]);
    now += 10;
    a.pool.markFailed(a.ep(urls[0]!), 'ETIMEDOUT');
    // Discovery's last answer came before the failure: the mark stays through later pushes.
    await nextTurn();
    now += 10;
    assert.equal(await b.list.refresh(), true);
    await nextTurn();
    assert.equal(a.pool.isFailed(a.ep(urls[0]!)), true, 'the refresh was answered by the other member');

    // A member added to the cluster reaches every worker with the next refresh; a removed one leaves.
    list = [urls[0]!, urls[1]!, urls[2]!];
    assert.equal(await a.list.refresh(), true);
    assert.deepEqual(a.pool.urls(), urls, 'the asking worker has the new list when its refresh resolves');
    await nextTurn();
    assert.deepEqual(b.pool.urls(), urls);
    list = [urls[1]!, urls[2]!];
    assert.equal(await b.list.refresh(), true);
    await nextTurn();
    assert.deepEqual(a.pool.urls(), [urls[1], urls[2]]);
    assert.deepEqual(b.pool.urls(), [urls[1], urls[2]]);
  } finally {
    primary.stop();
  }
});

test('a worker whose primary is gone starts with its seeds and answers refreshes with false', async () => {
  const sent: ProxyWorkerMessage[] = [];
  const worker = new WorkerMemberList((m) => sent.push(m));
  const pool = new EndpointPool(FAILURE_WAIT_MS, Date.now, worker);
  pool.setUrls([urls[0]!]);
  const started = worker.start(pool, []);
  const refreshed = worker.refresh();
  worker.close();
  await started;
  assert.equal(await refreshed, false);
  assert.deepEqual(pool.urls(), [urls[0]]);
  assert.deepEqual(sent.map((m) => m.proxy), ['members?', 'refresh?']);
});
