/**
 * Open connections against the member's file descriptors: a real `deimos` under a low open-files
 * limit, flooded with idle watches (one connection each). The client connections are bounded
 * (--max-client-conns, by default derived from the limit): the ones over it are answered 503 and
 * closed, counted on /metrics, and the member keeps serving writes across WAL segment cuts (a
 * snapshot every few entries), and accepts new connections once the watches go. With the bound set
 * above what the descriptors allow, accepts fail with EMFILE, and the member still survives (its
 * next WAL segment was prepared ahead of time).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { parseResponses, RawConnection, type RawResponse } from '../support/raw-connection.js';
import { freshGet, metric } from '../support/raw-requests.js';
import { waitFor } from '../support/wait-for.js';

const started: DeimosProcess[] = [];
const opened: RawConnection[] = [];
after(async () => {
  for (const c of opened) c.destroy();
  for (const p of started) await p.destroy();
});

async function start(options: Parameters<typeof DeimosProcess.start>[0]): Promise<DeimosProcess> {
  const p = await DeimosProcess.start(options);
  started.push(p);
  return p;
}

async function connect(url: string): Promise<RawConnection> {
  const c = await RawConnection.open(url);
  opened.push(c);
  return c;
}

/** Sends one request on a kept-alive connection and returns its response. */
async function exchange(c: RawConnection, request: string): Promise<RawResponse> {
  const before = parseResponses(c.text).length;
  c.send(request);
  return (await c.responses(before + 1, request.split('\r\n')[0]!))[before]!;
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const put = (key: string, value: string): string => {
  const body = `value=${encodeURIComponent(value)}`;
  return `PUT /v2/keys${key} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
};

/** Opens `count` connections (16 at a time), each sending a watch that no write will wake. */
async function openWatches(url: string, count: number): Promise<RawConnection[]> {
  const all: RawConnection[] = [];
  for (let i = 0; i < count; i += 16) {
    const batch = await Promise.all(Array.from({ length: Math.min(16, count - i) }, async () => {
      try {
        const c = await connect(url);
        c.send(get('/v2/keys/idle/never?wait=true'));
        return c;
      } catch {
        return undefined; // refused by the kernel or reset: counted as not served below
      }
    }));
    for (const c of batch) if (c) all.push(c);
  }
  return all;
}

/** Writes `count` keys over `writer`, each answered 201 or 200. */
async function writeKeys(writer: RawConnection, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const r = await exchange(writer, put(`/${prefix}/k${i}`, `v${i}`));
    assert.ok(r.status === 201 || r.status === 200, `write ${i}: ${r.status} ${r.body}`);
  }
}

function walSegments(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'wal')).filter((n) => n.endsWith('.wal'));
}

test('idle watches past the default limit are refused with 503, counted, and the member keeps writing across WAL cuts', { timeout: 120_000 }, async () => {
  const node = await start({ fdLimit: 256, args: ['--snapshot-count', '20'] });
  // Opened first: every request of the test that needs the member goes through it.
  const writer = await connect(node.clientUrl);
  const before = (await exchange(writer, get('/metrics'))).body;
  const limit = metric(before, 'deimos_client_connections_limit');
  // 256 descriptors: 128 kept for the member's own files, 32 for peers, the rest for clients.
  assert.equal(limit, 96);
  const watches = await openWatches(node.clientUrl, 300);
  await waitFor(() => watches.every((w) => w.closed || w.text.startsWith('HTTP/1.1 200 ')), { timeoutMs: 20_000, what: 'every watch to be parked or refused' });
  const refused = watches.filter((w) => w.closed);
  // Besides the writer, the readiness probe's kept-alive connection may still hold a slot.
  const parked = watches.length - refused.length;
  assert.ok(parked >= limit - 2 && parked <= limit - 1, `${parked} watches parked with a limit of ${limit}`);
  const text = (await exchange(writer, get('/metrics'))).body;
  assert.equal(metric(text, 'deimos_client_connections'), limit);
  assert.equal(metric(text, 'deimos_client_connections_refused_total'), refused.length);
  // Refusals are answered while at most 64 of them wait for their client to close; a burst past
  // that is closed bare (refusals must not hold descriptors either).
  const answered = refused.filter((w) => w.text !== '');
  assert.ok(answered.length >= Math.min(64, refused.length), `only ${answered.length} of ${refused.length} refusals answered`);
  for (const w of answered) {
    const [r] = parseResponses(w.text);
    assert.ok(r, `a refused connection got half an answer: ${JSON.stringify(w.text)}`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(JSON.parse(r.body).message as string, /too many open client connections \(limit 96\)/);
  }

  // Writes go on, through snapshots and WAL segment cuts.
  const segmentsBefore = walSegments(node.dataDir);
  await writeKeys(writer, 'flood', 80);
  assert.match(node.output, /snapshot taken/);
  assert.notDeepEqual(walSegments(node.dataDir), segmentsBefore, 'no WAL segment was cut');
  assert.equal(node.exitCode, null);

  // Once the watches go, new connections are served again.
  for (const w of watches) w.destroy();
  await waitFor(async () => (await freshGet(node.clientUrl, '/v2/keys/flood/k79'))?.status === 200, { timeoutMs: 20_000, what: 'a new connection to be served' });
  const after = (await freshGet(node.clientUrl, '/metrics'))!.body;
  assert.ok(metric(after, 'deimos_client_connections') <= 3, after);
  await node.restart();
  assert.equal((await http('GET', `${node.clientUrl}/v2/keys/flood/k79`)).json.node.value, 'v79');
});

test('DEIMOS_MAX_CLIENT_CONNS bounds client connections, and a freed slot is taken by the next client', { timeout: 60_000 }, async () => {
  const node = await start({ env: { DEIMOS_MAX_CLIENT_CONNS: '4' } });
  // Watches one at a time until one is refused (the readiness probe's connection may hold a slot).
  const parked: RawConnection[] = [];
  let refused: RawConnection | undefined;
  while (refused === undefined) {
    const w = await connect(node.clientUrl);
    w.send(get('/v2/keys/idle/never?wait=true'));
    await w.until((t) => t.startsWith('HTTP/1.1 200 ') || w.closed, 'an answer');
    if (w.closed) refused = w;
    else parked.push(w);
    assert.ok(parked.length <= 4, 'more than 4 connections were served');
  }
  assert.ok(parked.length >= 3, `only ${parked.length} watches parked under a limit of 4`);
  const [r] = parseResponses(refused.text);
  assert.equal(r?.status, 503);
  assert.equal(r?.headers['content-type'], 'application/json');
  assert.match(r?.body ?? '', /"message":"too many open client connections \(limit 4\)/);
  parked[0]!.destroy();
  await waitFor(async () => (await freshGet(node.clientUrl, '/v2/keys/'))?.status === 200, { timeoutMs: 20_000, what: 'the freed slot to be served' });
  assert.equal(node.exitCode, null);
});

test('with the limit above what descriptors allow, failed accepts are survived and writes go on across WAL cuts', { timeout: 120_000 }, async () => {
  const node = await start({ fdLimit: 256, args: ['--snapshot-count', '20', '--max-client-conns', '5000'] });
  const writer = await connect(node.clientUrl);
  // Every process serving the client port has the 256 descriptors: with client workers the
  // connections spread over them as the kernel hands them out, so watches are opened until
  // accepts fail (at most 1,600: enough for six workers).
  const starved = (): boolean => watches.some((w) => w.closed && w.text === '');
  const watches: RawConnection[] = [];
  for (let round = 0; round < 8 && !starved(); round++) {
    watches.push(...(await openWatches(node.clientUrl, 200)));
    for (let t = 0; t < 20 && !starved(); t++) await new Promise((r) => setTimeout(r, 50));
  }
  // The member ran out of descriptors: connections past that were closed unanswered.
  await waitFor(starved, { timeoutMs: 20_000, what: 'accepts to fail for want of descriptors' });
  const segmentsBefore = walSegments(node.dataDir);
  await writeKeys(writer, 'exhausted', 80);
  assert.match(node.output, /snapshot taken/);
  assert.notDeepEqual(walSegments(node.dataDir), segmentsBefore, 'no WAL segment was cut');
  assert.equal(node.exitCode, null);
  for (const w of watches) w.destroy();
  await waitFor(async () => (await freshGet(node.clientUrl, '/v2/keys/exhausted/k79'))?.status === 200, { timeoutMs: 20_000, what: 'new connections to be served' });
  await node.restart();
  assert.equal((await http('GET', `${node.clientUrl}/v2/keys/exhausted/k79`)).json.node.value, 'v79');
});

test('--max-peer-conns bounds connections on the peer URL with the same clear refusal', { timeout: 60_000 }, async () => {
  const node = await start({ args: ['--max-peer-conns', '2'] });
  const held = [await connect(node.peerUrl), await connect(node.peerUrl)];
  const third = await connect(node.peerUrl);
  third.send(get('/members'));
  await third.until(() => third.closed, 'the refusal and close');
  const [r] = parseResponses(third.text);
  assert.equal(r?.status, 503);
  assert.match(r?.body ?? '', /"message":"too many open peer connections \(limit 2\)/);
  // The held connections are served, and the client port is unaffected.
  assert.equal((await exchange(held[0]!, get('/members'))).status, 200);
  assert.equal((await freshGet(node.clientUrl, '/v2/keys/'))?.status, 200);
  const metrics = (await freshGet(node.clientUrl, '/metrics'))!.body;
  assert.equal(metric(metrics, 'deimos_peer_connections_refused_total'), 1);
  assert.equal(metric(metrics, 'deimos_peer_connections_limit'), 2);
});

test('a peer connection that sends nothing is closed after 10 s, so idle sockets cannot keep the members out', { timeout: 60_000 }, async () => {
  const node = await start({ args: ['--max-peer-conns', '2'] });
  const idle = [await connect(node.peerUrl), await connect(node.peerUrl)];
  const opened = Date.now();
  for (const c of idle) await c.until(() => c.closed, 'the close of an idle peer connection', 20_000);
  assert.ok(Date.now() - opened >= 9_000, `closed after ${Date.now() - opened} ms, before its first-request bound`);
  // The client sees the close when the member's socket is shut; the member gives the slot back when
  // its close completes, a moment later on a loaded machine: the next connection may come first.
  let status = 0;
  await waitFor(async () => {
    status = (await exchange(await connect(node.peerUrl), get('/members'))).status;
    return status === 200;
  }, { timeoutMs: 5_000, what: 'a fresh peer connection to be served once the idle ones are gone' });
  assert.equal(status, 200);
});
