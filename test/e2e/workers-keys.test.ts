/**
 * A member with two client workers (`--client-workers 2`): the keys API through fresh connections
 * (any worker may take each), a write through one worker waking watches held by the others, reads
 * after writes through other workers, watches without waitIndex starting after writes answered
 * elsewhere, big reads streamed through a worker, and the worker metrics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { DeimosProcess } from '../support/deimos-process.js';
import { Watch } from '../support/watch.js';
import { waitFor } from '../support/wait-for.js';
import { childPids, fresh, metricValue } from '../support/client-workers.js';

let member: DeimosProcess;
const watches: Watch[] = [];

before(async () => {
  member = await DeimosProcess.start({ args: ['--client-workers', '2'] });
});

after(async () => {
  for (const w of watches) w.close();
  await member?.destroy();
});

const url = (path: string): string => `${member.clientUrl}/v2/keys${path}`;

test('the member runs two worker processes and reports them', async () => {
  await waitFor(() => childPids(member.pid!).length === 2, { timeoutMs: 5000, what: 'two workers' });
  const metrics = await fresh('GET', `${member.clientUrl}/metrics`);
  assert.equal(metrics.status, 200);
  assert.equal(metricValue(metrics.body, 'deimos_client_workers'), 2);
  assert.equal(metricValue(metrics.body, 'deimos_client_workers_up'), 2);
});

test('/metrics reports the memory of the whole member: every process\'s RSS and PSS summed', async () => {
  await waitFor(() => childPids(member.pid!).length === 2, { timeoutMs: 5000, what: 'two workers' });
  const text = (await fresh('GET', `${member.clientUrl}/metrics`)).body;
  const kib = (pid: number, field: string): number => {
    const file = field === 'VmRSS' ? `/proc/${pid}/status` : `/proc/${pid}/smaps_rollup`;
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'))![1]) * 1024;
  };
  const pids = [member.pid!, ...childPids(member.pid!)];
  for (const [series, field] of [['deimos_process_resident_memory_bytes', 'VmRSS'], ['deimos_process_pss_bytes', 'Pss']] as const) {
    const reported = metricValue(text, series) ?? 0;
    const primary = kib(member.pid!, field);
    const all = pids.reduce((sum, pid) => sum + kib(pid, field), 0);
    // More than the primary alone; near the sum read now (memory moves a little between the reads).
    assert.ok(reported > primary * 1.3, `${series} ${reported}: the primary alone has ${primary}`);
    assert.ok(Math.abs(reported - all) < all * 0.25, `${series} ${reported}, the processes have ${all} now`);
  }
});

test('/metrics sums the requests every worker answered', async () => {
  const series = 'deimos_http_requests_total{code="200",method="GET",route="keys"}';
  const count = async (): Promise<number> => {
    const text = (await fresh('GET', `${member.clientUrl}/metrics`)).body;
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };
  await fresh('PUT', url('/counted'), { value: 'c' });
  const before = await count();
  for (let i = 0; i < 20; i++) assert.equal((await fresh('GET', url('/counted'))).status, 200);
  assert.equal(await count(), before + 20);
});

test('set, get, compare-and-swap, delete, directories and TTL through any worker', async () => {
  const created = await fresh('PUT', url('/basic/a'), { value: 'one' });
  assert.equal(created.status, 201, created.body);
  const index = created.json.node.modifiedIndex as number;
  const got = await fresh('GET', url('/basic/a'));
  assert.equal(got.json.node.value, 'one');
  assert.ok(Number(got.headers['x-etcd-index']) >= index);
  const badCas = await fresh('PUT', url('/basic/a?prevValue=nope'), { value: 'two' });
  assert.equal(badCas.status, 412);
  assert.equal(badCas.json.errorCode, 101);
  const cas = await fresh('PUT', url(`/basic/a?prevIndex=${index}`), { value: 'two' });
  assert.equal(cas.status, 200, cas.body);
  assert.equal(cas.json.prevNode.value, 'one');
  const dir = await fresh('PUT', url('/basic/d?dir=true'));
  assert.equal(dir.status, 201);
  await fresh('PUT', url('/basic/d/x'), { value: '1' });
  const notEmpty = await fresh('DELETE', url('/basic/d?dir=true'));
  assert.equal(notEmpty.json.errorCode, 108);
  const listing = await fresh('GET', url('/basic?recursive=true&sorted=true'));
  assert.deepEqual(listing.json.node.nodes.map((n: { key: string }) => n.key), ['/basic/a', '/basic/d']);
  const deleted = await fresh('DELETE', url('/basic/a'));
  assert.equal(deleted.status, 200);
  assert.equal((await fresh('GET', url('/basic/a'))).json.errorCode, 100);
  const ttl = await fresh('PUT', url('/basic/t'), { value: 'v', ttl: '1' });
  assert.equal(ttl.json.node.ttl, 1);
  await waitFor(async () => (await fresh('GET', url('/basic/t'))).status === 404, { timeoutMs: 5000, what: 'the key to expire' });
  const bad = await fresh('PUT', url('/basic/t?ttl=abc'), { value: 'v' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.errorCode, 202);
});

test('a write through one worker wakes the watches held by every worker', async () => {
  const ws = await Promise.all(Array.from({ length: 8 }, () => Watch.open(url('/wake?wait=true'))));
  watches.push(...ws);
  await waitFor(async () => (await fresh('GET', `${member.clientUrl}/v2/stats/store`)).json.watchers >= 8, { timeoutMs: 5000, what: 'eight watchers' });
  // /metrics counts the watchers of every worker too.
  assert.ok((metricValue((await fresh('GET', `${member.clientUrl}/metrics`)).body, 'deimos_store_watchers') ?? 0) >= 8);
  const written = await fresh('PUT', url('/wake'), { value: 'up' });
  for (const w of ws) {
    const event = await w.next(5000);
    assert.equal(event.node.value, 'up');
    assert.equal(event.node.modifiedIndex, written.json.node.modifiedIndex);
  }
});

test('every read after a write answered by another worker sees it (linearizable and serializable)', async () => {
  for (let i = 0; i < 40; i++) {
    const w = await fresh('PUT', url('/ryw'), { value: String(i) });
    assert.ok(w.status === 200 || w.status === 201, w.body);
    const q = i % 2 === 0 ? '' : '?serializable=true';
    const r = await fresh('GET', url(`/ryw${q}`));
    assert.equal(r.json.node.value, String(i), `read ${i}${q}`);
    assert.ok(Number(r.headers['x-etcd-index']) >= w.json.node.modifiedIndex);
  }
});

test('repeated reads (answered from the workers\' caches) follow writes, listings, deletes and TTLs made through any worker', async () => {
  await fresh('PUT', url('/hot/k'), { value: 'v0' });
  for (let i = 1; i <= 15; i++) {
    // Several reads first, so every worker holds the answer.
    for (let j = 0; j < 4; j++) assert.equal((await fresh('GET', url(`/hot/k${j % 2 === 0 ? '?serializable=true' : ''}`))).json.node.value, `v${i - 1}`);
    const w = await fresh('PUT', url('/hot/k'), { value: `v${i}` });
    for (let j = 0; j < 4; j++) {
      const r = await fresh('GET', url(`/hot/k${j % 2 === 0 ? '?serializable=true' : ''}`));
      assert.equal(r.json.node.value, `v${i}`, `read ${j} after write ${i}`);
      assert.ok(Number(r.headers['x-etcd-index']) >= w.json.node.modifiedIndex);
    }
  }
  for (let j = 0; j < 4; j++) await fresh('GET', url('/hot'));
  await fresh('PUT', url('/hot/other'), { value: 'o' });
  for (let j = 0; j < 4; j++) assert.equal((await fresh('GET', url('/hot'))).json.node.nodes.length, 2);
  await fresh('DELETE', url('/hot?recursive=true'));
  for (let j = 0; j < 4; j++) assert.equal((await fresh('GET', url('/hot/k?serializable=true'))).status, 404);
  // A key given a TTL shows it counting down: such answers are never kept.
  await fresh('PUT', url('/hotttl'), { value: 't' });
  for (let j = 0; j < 4; j++) assert.equal((await fresh('GET', url('/hotttl'))).json.node.ttl, undefined);
  await fresh('PUT', url('/hotttl'), { ttl: '100', refresh: 'true', prevExist: 'true' });
  for (let j = 0; j < 4; j++) assert.ok((await fresh('GET', url('/hotttl'))).json.node.ttl <= 100);
});

test('/v2/stats/store counts every successful read, the cached ones too', async () => {
  await fresh('PUT', url('/counted'), { value: 'c' });
  const before = (await fresh('GET', `${member.clientUrl}/v2/stats/store`)).json.getsSuccess as number;
  for (let i = 0; i < 30; i++) assert.equal((await fresh('GET', url('/counted'))).status, 200);
  const after = (await fresh('GET', `${member.clientUrl}/v2/stats/store`)).json.getsSuccess as number;
  assert.equal(after - before, 30);
});

test('a watch without waitIndex taken after a write answered elsewhere starts after it', async () => {
  for (let i = 0; i < 10; i++) {
    const first = await fresh('PUT', url('/after'), { value: `a${i}` });
    const w = await Watch.open(url('/after?wait=true'));
    watches.push(w);
    assert.ok(Number(w.header('x-etcd-index')) >= first.json.node.modifiedIndex);
    const second = await fresh('PUT', url('/after'), { value: `b${i}` });
    const event = await w.next(5000);
    assert.equal(event.node.modifiedIndex, second.json.node.modifiedIndex);
    w.close();
  }
});

test('a waitIndex in the past is answered from history through any worker', async () => {
  const a = await fresh('PUT', url('/hist'), { value: 'h1' });
  await fresh('PUT', url('/hist'), { value: 'h2' });
  const old = await fresh('GET', url(`/hist?wait=true&waitIndex=${a.json.node.modifiedIndex}`));
  assert.equal(old.json.node.value, 'h1');
});

test('a big recursive read streams whole through a worker', async () => {
  const value = 'x'.repeat(512);
  for (let i = 0; i < 2500; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => fresh('PUT', url(`/big/k${i + j}`), { value })));
  }
  const res = await fresh('GET', url('/big?recursive=true'), undefined, 30_000);
  assert.equal(res.status, 200);
  assert.ok(res.body.length > 1024 * 1024, 'past the first rendering step');
  assert.equal(res.json.node.nodes.length, 2500);
});

test('watches whose clients go away before their answer starts leave no watcher, connection or slot behind', async () => {
  const storeWatchers = async (): Promise<number> => (JSON.parse((await fresh('GET', `${member.clientUrl}/v2/stats/store`)).body) as { watchers: number }).watchers;
  const connections = async (): Promise<number> => metricValue((await fresh('GET', `${member.clientUrl}/metrics`)).body, 'deimos_client_connections') ?? -1;
  await waitFor(async () => (await storeWatchers()) === 0, { timeoutMs: 10_000, what: 'no watchers before' });
  const before = await connections();
  const { port } = new URL(member.clientUrl);
  // A worker registers a watch without waitIndex only once the primary answered where it starts:
  // these clients half-close (or reset) right after sending, before that answer.
  await Promise.all(Array.from({ length: 40 }, (_, i) => new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET /v2/keys/gone-early/k${i}?wait=true${i % 2 === 0 ? '&stream=true' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`);
      setImmediate(() => {
        if (i % 4 === 3) socket.destroy();
        else socket.end();
        resolve();
      });
    });
    socket.on('error', reject);
    socket.resume();
  })));
  await waitFor(async () => (await storeWatchers()) === 0, { timeoutMs: 15_000, what: 'every abandoned watch dropped' });
  await waitFor(async () => (await connections()) <= before, { timeoutMs: 15_000, what: `the connections back to ${before}` });
});

test('big reads whose clients stalled and left while others waited for a slot leave every slot free for the next', async () => {
  // A short request timeout, so that the reads queued behind the stalled ones are given up on by
  // their worker soon: each used to be started once admitted, its listing acknowledged by no one,
  // holding a slot for the minute of the stall bound, and new reads queued behind them timed out.
  const small = await DeimosProcess.start({ args: ['--client-workers', '1', '--timeout', '1s'] });
  try {
    const at = (path: string): string => `${small.clientUrl}/v2/keys${path}`;
    const value = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 320; i += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, j) => fresh('PUT', at(`/big/k${i + j}`), { value })));
    }
    const { port } = new URL(small.clientUrl);
    // Twenty readers that never read an answer of ~10 MB: more than the member's big-read slots.
    const stalled = await Promise.all(Array.from({ length: 20 }, () => new Promise<import('node:net').Socket>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('GET /v2/keys/big?recursive=true HTTP/1.1\r\nHost: x\r\n\r\n');
        socket.pause();
        resolve(socket);
      });
      socket.on('error', reject);
    })));
    // Past the worker's patience (timeout and its grace) for the reads waiting for a slot.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const s of stalled) s.destroy();
    await waitFor(async () => (await fresh('GET', at('/big?recursive=true'), undefined, 20_000)).status === 200, { timeoutMs: 20_000, what: 'a big read answered again' });
    const res = await fresh('GET', at('/big?recursive=true'), undefined, 20_000);
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.equal(res.json.node.nodes.length, 320);
  } finally {
    await small.destroy();
  }
});
