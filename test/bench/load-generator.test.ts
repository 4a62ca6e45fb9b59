/**
 * The bench's load generator against real node:http servers in this process: what it counts as a
 * success, an error and a transport failure, and how it frames the responses it reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runLoad, type LoadOptions } from './load-generator.js';
import { runLoadSpread } from './load-threads.js';
import { makerOf, newCounters, writtenOf } from './request-plan.js';
import { ResponseReader, type ResponseSummary } from './response-reader.js';

async function withServer(handler: RequestListener, fn: (url: string, sockets: Set<Socket>) => Promise<void>): Promise<void> {
  const server = createServer({ keepAliveTimeout: 5000 }, handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
  });
}

const base = (url: string, more: Partial<LoadOptions>): LoadOptions => ({
  url, concurrency: 4, durationMs: 30_000, maxRequests: 200, makeRequest: (seq) => ({ method: 'GET', path: `/k${seq}` }), ...more,
});

test('counts 2xx answers as successes and any other status as an error with its body', async () => {
  await withServer((req, res) => {
    const n = Number(req.url!.slice(2));
    if (n % 4 === 3) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"errorCode":100,"message":"Key not found"}\n');
      return;
    }
    res.writeHead(n % 4 === 0 ? 201 : 200, { 'Content-Length': '2' });
    res.end('ok');
  }, async (url) => {
    const r = await runLoad(base(url, { maxRequests: 400 }));
    assert.equal(r.ok, 300);
    assert.equal(r.errors, 100);
    assert.equal(r.transportErrors, 0);
    assert.deepEqual(r.statusCounts, { 200: 200, 201: 100, 404: 100 });
    assert.match(r.firstError ?? '', /^GET \/k\d+ -> 404 \{"errorCode":100,"message":"Key not found"\}$/);
    assert.equal(r.latency.count, 300, 'only successes are in the latency histogram');
  });
});

test('sends bodies with their length and reads chunked and Connection: close answers', async () => {
  const bodies: string[] = [];
  await withServer(async (req, res) => {
    bodies.push(`${req.method} ${req.headers['content-type']} ${await readAll(req)}`);
    const n = bodies.length;
    if (n % 3 === 0) res.setHeader('Connection', 'close');
    res.writeHead(200); // no length: chunked
    res.write('{"a":');
    setImmediate(() => res.end(`${n}}\n`));
  }, async (url, sockets) => {
    const value = Buffer.from('value=héllo');
    const r = await runLoad(base(url, {
      maxRequests: 90,
      makeRequest: () => ({ method: 'PUT', path: '/v2/keys/x', body: value, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
    }));
    assert.equal(r.ok, 90, r.firstError);
    assert.equal(r.errors, 0);
    assert.deepEqual(new Set(bodies), new Set(['PUT application/x-www-form-urlencoded value=héllo']));
    assert.ok(sockets.size >= 30, `a closed connection is reopened (${sockets.size} connections)`);
  });
});

test('a connection the server drops is a transport error, and the client carries on', async () => {
  await withServer((req, res) => {
    if (req.url === '/k5' || req.url === '/k6') {
      req.socket.destroy();
      return;
    }
    res.end('ok');
  }, async (url) => {
    const r = await runLoad(base(url, { maxRequests: 50 }));
    assert.equal(r.ok, 48);
    assert.equal(r.errors, 2);
    assert.equal(r.transportErrors, 2);
    assert.match(r.firstError ?? '', /^GET \/k[56]: connection (closed before the response ended|error: ECONNRESET)$/);
  });
});

test('a request with no answer within the deadline is an error', async () => {
  const held: ServerResponse[] = [];
  await withServer((req, res) => {
    if (req.url === '/k1') held.push(res); // never answered
    else res.end('ok');
  }, async (url) => {
    const r = await runLoad(base(url, { maxRequests: 20, requestTimeoutMs: 300 }));
    assert.equal(r.ok, 19);
    assert.equal(r.transportErrors, 1);
    assert.match(r.firstError ?? '', /no response within 300 ms/);
  });
});

test('stops at the request budget or the duration, whichever comes first', async () => {
  await withServer((_req, res) => res.end('ok'), async (url) => {
    const r = await runLoad(base(url, { concurrency: 8, maxRequests: 1000 }));
    assert.equal(r.ok + r.errors, 1000);
    const timed = await runLoad(base(url, { concurrency: 2, maxRequests: 1e9, durationMs: 300 }));
    assert.ok(timed.elapsedMs >= 300 && timed.elapsedMs < 5000, `elapsed ${timed.elapsedMs}`);
  });
});

test('refuses targets that are not on loopback', () => {
  assert.throws(() => runLoad(base('http://192.0.2.1:2379', {})), /loopback only/);
  assert.throws(() => runLoad(base('https://127.0.0.1:2379', {})), /https needs the CA/);
});

test('the response reader frames responses fed one byte at a time', () => {
  const seen: ResponseSummary[] = [];
  const reader = new ResponseReader((r) => seen.push(r));
  const wire = Buffer.from(
    'HTTP/1.1 100 Continue\r\n\r\n'
    + 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'
    + 'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\noops\r\n3\r\n!!!\r\n0\r\nX-T: 1\r\n\r\n'
    + 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'
    + 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n',
  );
  for (let i = 0; i < wire.length; i++) {
    if (seen.length === 3) reader.expect(true); // the 4th request was a HEAD: no body despite the length
    reader.feed(wire.subarray(i, i + 1));
  }
  assert.deepEqual(seen, [
    { status: 200, bodySample: '', close: false },
    { status: 500, bodySample: 'oops!!!', close: false },
    { status: 204, bodySample: '', close: true },
    { status: 200, bodySample: '', close: false },
  ]);
  assert.equal(reader.end(), 'idle');
});

test('the response reader completes a body that runs until the close, and notices a cut one', () => {
  const seen: ResponseSummary[] = [];
  const reader = new ResponseReader((r) => seen.push(r));
  reader.feed(Buffer.from('HTTP/1.0 503 Service Unavailable\r\n\r\nbusy'));
  assert.equal(reader.end(), 'delivered');
  assert.deepEqual(seen, [{ status: 503, bodySample: 'busy', close: true }]);
  reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(reader.end(), 'cut');
  assert.throws(() => new ResponseReader(() => undefined).feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /not an HTTP\/1.x response/);
});

test('a load spread over threads makes the same requests, sums the counts and shares the written-key counter', async () => {
  const paths: string[] = [];
  await withServer((req, res) => {
    paths.push(req.url!);
    req.resume();
    req.on('end', () => res.end('{}'));
  }, async (url) => {
    const plan = { spec: { kind: 'write' as const, valueBytes: 10 }, counters: newCounters() };
    const r = await runLoadSpread({ url, concurrency: 6, durationMs: 30_000, maxRequests: 300, makeRequest: makerOf(plan), plan, threads: 3 });
    assert.equal(r.ok, 300);
    assert.equal(r.errors, 0);
    assert.equal(r.latency.count, 300);
    assert.equal(r.statusCounts[200], 300);
    assert.equal(writtenOf(plan.counters), 300);
    // Every key written once, none twice, whatever thread wrote it.
    assert.deepEqual(paths.map((p) => Number(p.slice('/v2/keys/bench/k'.length))).sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
  });
});
