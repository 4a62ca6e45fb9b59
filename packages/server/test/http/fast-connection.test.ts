import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { BodyStream } from '../../src/http/body-stream.js';
import { serveConnectionsFirst, type FastHandler, type LoopConnections } from '../../src/http/fast-connection.js';

// The loop in front of a real node:http server on loopback. The loop's handler takes GET and PUT on
// /fast/... (PUT answered on a later turn, as a raft write is) and declines everything else; node:http
// answers what it gets with "node <method> <url> <body>".
let server: http.Server;
let loop: LoopConnections;
let port: number;
const lentHeads: string[] = [];

/** What the handler saw and did, in order ("take /delay/..", "reply /delay/..", "take PUT ..."). */
const log: string[] = [];

const handler: FastHandler = ({ head, body }, exchange) => {
  if (head.url.startsWith('/delay/')) {
    // Answered after the given number of ms: reads overlap, writes do not.
    log.push(`take ${head.method} ${head.url}`);
    const text = `delayed ${head.method} ${head.url}`;
    setTimeout(() => {
      log.push(`reply ${head.method} ${head.url}`);
      exchange.reply(200, ['Content-Length', Buffer.byteLength(text)], text);
    }, Number(head.url.slice('/delay/'.length)));
    return true;
  }
  if (head.url.startsWith('/stream/')) {
    // A body of N parts written one per turn as the socket takes them (a big read).
    const parts = Number(head.url.slice('/stream/'.length));
    log.push(`take ${head.method} ${head.url}`);
    const body: BodyStream = {
      pipe: (sink) => {
        let i = 0;
        const next = (): void => {
          if (sink.gone) {
            log.push(`gone ${head.url}`);
            return sink.abort();
          }
          if (i === parts) {
            log.push(`end ${head.url}`);
            return sink.end();
          }
          sink.write(`part${i++};`);
          setImmediate(next);
        };
        setImmediate(next);
      },
      cancel: () => log.push(`cancel ${head.url}`),
    };
    exchange.stream(200, ['X-Stream', parts], body);
    return true;
  }
  if (head.url.startsWith('/lend')) {
    return exchange.lend((socket, h, handBack) => {
      lentHeads.push(h.url);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlent');
      setImmediate(() => handBack(undefined));
      return true;
    });
  }
  if (!head.url.startsWith('/fast')) return false;
  const text = `fast ${head.method} ${head.url} ${body?.toString() ?? ''}`;
  if (head.method === 'GET') exchange.reply(200, ['Content-Length', Buffer.byteLength(text)], text);
  else if (head.method === 'PUT') setTimeout(() => exchange.reply(201, ['Content-Length', Buffer.byteLength(text)], text), 5);
  else return false;
  return true;
};

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = `node ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`;
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  loop = serveConnectionsFirst(server, 'connection', handler, { maxBodyBytes: 1024, keepAliveTimeoutMs: 30_000, requestArrivalMs: 30_000 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  loop.destroyAll();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends `parts` (each written separately) and returns everything received until the server closes or `until` matches. */
function exchange(parts: (string | Buffer)[], options: { halfClose?: boolean; until?: (text: string) => boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer; got: ${JSON.stringify(received)}`));
    }, 10_000);
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (options.until?.(received)) {
        clearTimeout(deadline);
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve(received);
    });
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const p of parts) {
        socket.write(p);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (options.halfClose) socket.end();
    });
  });
}

/** The bodies of the responses in `text`, in order. */
function bodies(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(at, headEnd))?.[1] ?? 0);
    out.push(text.slice(headEnd + 4, headEnd + 4 + length));
    at = headEnd + 4 + length;
  }
  return out;
}

const countOf = (text: string, s: string): number => text.split(s).length - 1;

test('pipelined requests are answered in order, across the hand-over to node:http', async () => {
  const text = await exchange([
    'GET /fast/1 HTTP/1.1\r\nHost: x\r\n\r\nPUT /fast/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /fast/3 HTTP/1.1\r\nHost: x\r\n\r\n'
    + 'GET /slow/4 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  ]);
  assert.deepEqual(bodies(text), ['fast GET /fast/1 ', 'fast PUT /fast/2 abc', 'fast GET /fast/3 ', 'node GET /slow/4 ', 'node GET /fast/5 ']);
});

test('a request split into many writes, the body in pieces, is answered once whole', async () => {
  const request = 'PUT /fast/split HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789';
  const parts = [...request].map((c) => c); // one byte per write
  const text = await exchange(parts, { until: (t) => bodies(t).length === 1 && t.endsWith('0123456789') });
  assert.deepEqual(bodies(text), ['fast PUT /fast/split 0123456789']);
});

test('Connection: close and HTTP/1.0 without keep-alive close after the answer; HTTP/1.0 keep-alive stays open', async () => {
  const closed = await exchange(['GET /fast/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  assert.match(closed, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(closed, /\r\nConnection: close\r\n/);
  assert.deepEqual(bodies(closed), ['fast GET /fast/a ']);
  const old = await exchange(['GET /fast/b HTTP/1.0\r\n\r\n']);
  assert.match(old, /\r\nConnection: close\r\n/);
  assert.deepEqual(bodies(old), ['fast GET /fast/b ']);
  const kept = await exchange(['GET /fast/c HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /fast/d HTTP/1.0\r\n\r\n']);
  assert.equal(countOf(kept, 'Connection: keep-alive\r\n'), 1);
  assert.deepEqual(bodies(kept), ['fast GET /fast/c ', 'fast GET /fast/d ']);
});

test('a half-closed connection gets the answers to what it sent, then the server closes', async () => {
  const text = await exchange(['PUT /fast/h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /fast/i HTTP/1.1\r\nHost: x\r\n\r\n'], { halfClose: true });
  assert.deepEqual(bodies(text), ['fast PUT /fast/h hi', 'fast GET /fast/i ']);
});

test('what is not the plain form goes to node:http: chunked bodies, Expect, bodies past the bound, odd heads', async () => {
  const chunked = await exchange(['PUT /fast/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /fast/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  assert.deepEqual(bodies(chunked), ['node PUT /fast/c abc', 'node GET /fast/next ']);
  const big = 'x'.repeat(2000);
  const large = await exchange([`PUT /fast/big HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`]);
  assert.deepEqual(bodies(large), [`node PUT /fast/big ${big}`]);
  const duplicate = await exchange(['GET /fast/d HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-A: 2\r\nConnection: close\r\n\r\n']);
  assert.deepEqual(bodies(duplicate), ['node GET /fast/d '], 'a repeated header');
  const garbage = await exchange(['NOT HTTP AT ALL\r\n\r\n']);
  assert.match(garbage, /^HTTP\/1\.1 400 /);
});

test('a lent socket comes back to the loop once the taker is done', async () => {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const got = (n: number) => new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`got ${JSON.stringify(received)}`)), 10_000);
    const check = (): void => {
      if (bodies(received).length < n) return;
      clearTimeout(deadline);
      socket.removeListener('data', check);
      resolve();
    };
    socket.on('data', check);
    check();
  });
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.write('GET /lend/1 HTTP/1.1\r\nHost: x\r\n\r\n');
  await got(1);
  socket.write('GET /fast/after HTTP/1.1\r\nHost: x\r\n\r\n');
  await got(2);
  socket.destroy();
  assert.deepEqual(bodies(received), ['lent', 'fast GET /fast/after ']);
  assert.deepEqual(lentHeads, ['/lend/1']);
});

test('a request to lend with more requests behind it goes to node:http, answers still in order', async () => {
  const text = await exchange(['GET /fast/x HTTP/1.1\r\nHost: x\r\n\r\nGET /lend/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  assert.deepEqual(bodies(text), ['fast GET /fast/x ', 'node GET /lend/2 ', 'node GET /fast/y ']);
});

test('a client that sends requests without reading answers is stopped by backpressure, not buffered without bound', async () => {
  const socket = net.connect(port, '127.0.0.1');
  socket.pause(); // never read
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  const request = Buffer.from('GET /fast/flood HTTP/1.1\r\nHost: x\r\n\r\n');
  let sent = 0;
  // Write until the kernel buffers on both sides are full and our writes stop being accepted.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = socket.write(Buffer.concat(Array.from({ length: 256 }, () => request)));
    sent += 256;
    if (!ok) {
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
      ]);
      if (!drained) break;
    }
  }
  socket.destroy();
  assert.ok(Date.now() < deadline, `the server kept reading ${sent} unanswered requests`);
});

test('a request that trickles in past the arrival bound is answered 408 and the connection closed', async (t) => {
  // Its own listener with a short bound (the shared one's must not cut the split-write test short).
  const quick = http.createServer(() => assert.fail('node:http gets nothing here'));
  const quickLoop = serveConnectionsFirst(quick, 'connection', handler, { maxBodyBytes: 1024, keepAliveTimeoutMs: 30_000, requestArrivalMs: 300 });
  await new Promise<void>((resolve) => quick.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    quickLoop.destroyAll();
    quick.close();
  });
  const socket = net.connect((quick.address() as net.AddressInfo).port, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.write('PUT /fast/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n');
  // A byte every 100 ms keeps the connection from being idle; the request as a whole may take 300 ms.
  for (let i = 0; i < 20 && !socket.destroyed && received === ''; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!socket.destroyed) socket.write('x');
  }
  await closed;
  assert.equal(received, 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
});

test('pipelined reads are answered together, in request order; a write waits for the reads before it and reads wait for it', async () => {
  log.length = 0;
  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const put = (path: string): string => `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`;
  const text = await exchange([get('/delay/60') + get('/delay/1') + get('/delay/20') + put('/delay/2') + get('/delay/3') + get('/fast/end').replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')]);
  assert.deepEqual(bodies(text), ['delayed GET /delay/60', 'delayed GET /delay/1', 'delayed GET /delay/20', 'delayed PUT /delay/2', 'delayed GET /delay/3', 'fast GET /fast/end ']);
  assert.deepEqual(log.slice(0, 3), ['take GET /delay/60', 'take GET /delay/1', 'take GET /delay/20'], 'the three reads were taken before any was answered');
  const at = (entry: string): number => log.indexOf(entry);
  assert.ok(at('take PUT /delay/2') > at('reply GET /delay/60'), 'the write was taken only after every read before it was answered');
  assert.ok(at('take GET /delay/3') > at('reply PUT /delay/2'), 'the read behind the write was taken after the write was answered');
});

test('a streamed answer is chunked and holds the answers pipelined behind it until its end', async () => {
  const text = await exchange([
    'GET /stream/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast/after HTTP/1.1\r\nHost: x\r\n\r\nGET /stream/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  ]);
  const end = text.indexOf('\r\n0\r\n\r\n') + 7;
  const [first, rest] = [text.slice(0, end), text.slice(end)];
  assert.match(first, /^HTTP\/1\.1 200 OK\r\nX-Stream: 3\r\nTransfer-Encoding: chunked\r\nDate: [^\r]+\r\nConnection: keep-alive\r\n/);
  assert.ok(first.endsWith('\r\n\r\n6\r\npart0;\r\n6\r\npart1;\r\n6\r\npart2;\r\n0\r\n\r\n'), JSON.stringify(first));
  assert.deepEqual(bodies(rest).slice(0, 1), ['fast GET /fast/after ']);
  assert.match(rest, /\r\nConnection: close\r\n\r\n0\r\n\r\n$/);
});

test('a streamed answer to HTTP/1.0 is the raw body, then the connection closes', async () => {
  const text = await exchange(['GET /stream/2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']);
  assert.doesNotMatch(text, /Transfer-Encoding/);
  assert.match(text, /\r\nConnection: close\r\n\r\npart0;part1;$/);
});

test('a streamed answer whose client went away stops: cancelled before it starts or gone once it writes', async () => {
  log.length = 0;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /delay/50 HTTP/1.1\r\nHost: x\r\n\r\nGET /stream/1000000 HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => setTimeout(resolve, 10));
  socket.destroy();
  const deadline = Date.now() + 10_000;
  while (!log.some((l) => l === 'cancel /stream/1000000' || l === 'gone /stream/1000000')) {
    assert.ok(Date.now() < deadline, JSON.stringify(log));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(!log.includes('end /stream/1000000'));
});
