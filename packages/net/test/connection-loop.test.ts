import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { serveLoopFirst, type ConnectionLoopOptions, type LoopHandler } from '../src/connection-loop.js';
import type { LoopConnections } from '../src/serve-first.js';

// The connection loop in front of a real node:http server on loopback, with the member's manners
// (pipelined reads, utf8) or the proxy's (one request at a time, latin1, raw heads). The handler
// takes /delay/<ms> (answered after that many ms), /put (a PUT answered on a later turn),
// /raw/<n> (a raw head and n pieces of bytes, chunked: no length), /sized (a raw head with a
// length) and /lend, and declines the rest: node:http answers "node <method> <url> <body>".

/** What the handler saw and did, in order. */
const log: string[] = [];

const handler: LoopHandler = ({ head, body }, exchange) => {
  const url = head.url;
  if (url.startsWith('/delay/')) {
    log.push(`take ${url}`);
    setTimeout(() => {
      log.push(`reply ${url}`);
      exchange.reply(200, ['Content-Length', url.length], url);
    }, Number(url.slice('/delay/'.length)));
    return true;
  }
  if (url === '/put') {
    log.push(`take ${head.method} ${url}`);
    const text = `put ${body?.toString() ?? ''}`;
    setTimeout(() => {
      log.push(`reply ${head.method} ${url}`);
      exchange.reply(201, ['Content-Length', Buffer.byteLength(text)], Buffer.from(text));
    }, 5);
    return true;
  }
  if (url.startsWith('/raw/')) {
    const parts = Number(url.slice('/raw/'.length));
    exchange.streamRaw('HTTP/1.1 200 Member Says OK\r\nX-Member: 1\r\n', false, {
      pipe: (sink) => {
        let i = 0;
        const next = (): void => {
          if (i === parts) return sink.end();
          sink.write(Buffer.from(`p${i++};`));
          setImmediate(next);
        };
        next();
      },
      cancel: () => undefined,
    });
    return true;
  }
  if (url === '/sized') {
    exchange.streamRaw('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n', true, {
      pipe: (sink) => {
        sink.write(Buffer.from('ab'));
        sink.write(Buffer.from('cde'));
        sink.end();
      },
      cancel: () => undefined,
    });
    return true;
  }
  if (url === '/flood') {
    // 4 MiB in 16 KiB pieces, as fast as the sink takes them: records whether it ever said to wait.
    const piece = Buffer.alloc(16 * 1024, 'f');
    exchange.streamRaw('HTTP/1.1 200 OK\r\n', false, {
      pipe: (sink) => {
        let left = 256;
        const next = (): void => {
          while (left > 0) {
            left--;
            if (!sink.write(piece)) {
              log.push('wait');
              return sink.onceDrain(next);
            }
          }
          log.push('end');
          sink.end();
        };
        next();
      },
      cancel: () => undefined,
    });
    return true;
  }
  if (url === '/lend') {
    return exchange.lend((socket, h, handBack) => {
      log.push(`lent ${h.url}`);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlent');
      setImmediate(() => handBack(undefined));
      return true;
    });
  }
  return false;
};

const MEMBER: ConnectionLoopOptions = {
  maxBodyBytes: 64, keepAliveTimeoutMs: 30_000, headersTimeoutMs: 30_000, requestTimeoutMs: 30_000, pipelinedReads: 64, encoding: 'utf8',
};
const PROXY: ConnectionLoopOptions = { ...MEMBER, pipelinedReads: 1, encoding: 'latin1' };

const opened: { server: http.Server; loop: LoopConnections }[] = [];
after(async () => {
  for (const { server, loop } of opened) {
    loop.destroyAll();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A node:http server on loopback with the loop in front of it; its port. */
async function listen(options: ConnectionLoopOptions): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = `node ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`;
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const loop = serveLoopFirst(server, 'connection', handler, options);
  opened.push({ server, loop });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Sends `parts` (each written separately) and returns everything received until the server closes the connection. */
function exchange(port: number, parts: string[], gapMs = 2): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close; got: ${JSON.stringify(received)}`));
    }, 10_000);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve(received);
    });
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const p of parts) {
        if (socket.destroyed) break;
        socket.write(p);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** The bodies of the (length-framed) responses in `text`, in order. */
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

const get = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
const put = (body: string, close = false): string => `PUT /put HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${body}`;

test('pipelined reads are answered together, in request order; a write waits for the reads before it', async () => {
  const port = await listen(MEMBER);
  log.length = 0;
  const text = await exchange(port, [get('/delay/60') + get('/delay/1') + put('v') + get('/delay/2', true)]);
  assert.deepEqual(bodies(text), ['/delay/60', '/delay/1', 'put v', '/delay/2']);
  // Both reads were taken before either was answered; the write only once both were.
  assert.deepEqual(log, ['take /delay/60', 'take /delay/1', 'reply /delay/1', 'reply /delay/60', 'take PUT /put', 'reply PUT /put', 'take /delay/2', 'reply /delay/2']);
});

test('with one request at a time, a pipelined read is taken only once the one before is answered', async () => {
  const port = await listen(PROXY);
  log.length = 0;
  const text = await exchange(port, [get('/delay/30') + get('/delay/1') + get('/nope', true)]);
  assert.deepEqual(bodies(text), ['/delay/30', '/delay/1', 'node GET /nope ']);
  assert.deepEqual(log, ['take /delay/30', 'reply /delay/30', 'take /delay/1', 'reply /delay/1']);
});

test('a raw head goes out as given (reason phrase, no Date), chunked without a length, as is with one', async () => {
  const port = await listen(PROXY);
  const text = await exchange(port, [get('/raw/3') + get('/sized', true)]);
  assert.equal(text,
    'HTTP/1.1 200 Member Says OK\r\nX-Member: 1\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n'
    + '3\r\np0;\r\n3\r\np1;\r\n3\r\np2;\r\n0\r\n\r\n'
    + 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde');
});

test('a reply adds Date and the connection headers; a Buffer body is written as it is', async () => {
  const port = await listen(PROXY);
  const text = await exchange(port, [put('é', true)]);
  // (Received as latin1: one character per byte.)
  assert.match(text, /^HTTP\/1\.1 201 Created\r\nContent-Length: 6\r\nDate: [^\r]+ GMT\r\nConnection: close\r\n\r\n/);
  assert.ok(text.endsWith(Buffer.from('put é').toString('latin1')), text);
});

test('a body within the bound is taken whole; one past it goes to node:http', async () => {
  const port = await listen(PROXY);
  const within = 'x'.repeat(64);
  const past = 'y'.repeat(65);
  // The body arrives in pieces: the handler still sees it whole.
  const text = await exchange(port, [put(within).slice(0, 50), put(within).slice(50), put(past, true)]);
  assert.deepEqual(bodies(text), [`put ${within}`, `node PUT /put ${past}`]);
});

test('a head that trickles in past the head bound is answered 408 with no body and closed', async () => {
  const port = await listen({ ...PROXY, headersTimeoutMs: 200 });
  const head = get('/delay/1');
  // A byte every 50 ms: never idle, but the head as a whole takes longer than 200 ms.
  const text = await exchange(port, head.split(''), 50);
  assert.equal(text, 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
});

test('a body that trickles in past the whole-request bound is answered 408; the head bound does not apply to it', async () => {
  // The head bound is shorter than the trickle: only the whole-request bound may end it.
  const port = await listen({ ...MEMBER, headersTimeoutMs: 100, requestTimeoutMs: 400 });
  const started = Date.now();
  const text = await exchange(port, [put('x'.repeat(40)).slice(0, -40), ...'x'.repeat(40).split('')], 50);
  assert.equal(text, 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  assert.ok(Date.now() - started >= 400, 'answered 408 before the whole-request bound');
});

test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
  const port = await listen({ ...PROXY, keepAliveTimeoutMs: 200 });
  const text = await exchange(port, [get('/delay/1')]);
  assert.deepEqual(bodies(text), ['/delay/1']);
  assert.match(text, /Keep-Alive: timeout=0\r\n/);
});

test('a lent socket comes back to the loop once the taker is done; the next request is the loop\'s', async () => {
  const port = await listen(MEMBER);
  log.length = 0;
  const text = await exchange(port, [get('/lend'), get('/delay/1', true)], 30);
  assert.deepEqual(bodies(text), ['lent', '/delay/1']);
  assert.deepEqual(log, ['lent /lend', 'take /delay/1', 'reply /delay/1']);
});

test('a request to lend with a request pipelined behind it is not lent (the handler declines: node:http answers)', async () => {
  const port = await listen(MEMBER);
  log.length = 0;
  const text = await exchange(port, [get('/lend') + get('/delay/1', true)]);
  assert.deepEqual(bodies(text), ['node GET /lend ', 'node GET /delay/1 ']);
  assert.deepEqual(log, []);
});

test('a streamed body waits for a client that does not read (backpressure), and arrives whole once it does', async () => {
  const port = await listen(PROXY);
  log.length = 0;
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.pause();
  socket.write(get('/flood', true));
  // Not reading: the loop must be told to wait before it has written everything.
  const deadline = Date.now() + 10_000;
  while (!log.includes('wait') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(log, ['wait']);
  let received = 0;
  let text = '';
  socket.on('data', (d: Buffer) => {
    received += d.length;
    if (text.length < 200) text += d.toString('latin1', 0, Math.min(d.length, 200));
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.resume();
  await closed;
  assert.equal(log.at(-1), 'end');
  assert.match(text, /^HTTP\/1\.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4000\r\nfff/);
  const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'.length;
  assert.equal(received, head + 256 * ('4000\r\n'.length + 16 * 1024 + 2) + '0\r\n\r\n'.length);
});

test('a socket handed to the loop after its peer already ended, having sent nothing, is closed (a shared connection bound answers late)', async () => {
  const port = await listen(MEMBER);
  const server = opened.at(-1)!.server;
  // As the connection gate does with a shared bound: the loop gets the socket only later, here
  // once the peer's end has been seen (and emitted, with no listener of the loop's yet).
  const listeners = server.listeners('connection') as Array<(s: net.Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: net.Socket) => {
    socket.once('end', () => setImmediate(() => { for (const l of listeners) l.call(server, socket); }));
  });
  const received = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end());
    let text = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept the connection open'));
    }, 5_000);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve(text);
    });
  });
  assert.equal(received, '');
});

test('a request handed to node:http has the raw bytes of its request line percent-encoded, and nothing else changed', async () => {
  const { withEscapedTarget } = await import('../src/request-input.js');
  const raw = Buffer.from('GET /caf\xc3\xa9?x=\xff HTTP/1.1\r\nHost: x\r\nX-Name: \xc3\xa9\r\n\r\nbody\xff', 'latin1');
  assert.equal(withEscapedTarget(raw).toString('latin1'), 'GET /caf%C3%A9?x=%FF HTTP/1.1\r\nHost: x\r\nX-Name: \xc3\xa9\r\n\r\nbody\xff');
  const plain = Buffer.from('GET /a HTTP/1.1\r\n\r\n');
  assert.equal(withEscapedTarget(plain), plain);
});

test('while the server drains, every answer says Connection: close and the connection closes after it', async () => {
  let draining = false;
  const port = await listen({ ...MEMBER, draining: () => draining });
  draining = true;
  // Without draining the connection would stay open after the first answer and take the second request.
  const text = await exchange(port, [get('/delay/1'), get('/delay/2')], 50);
  assert.deepEqual(bodies(text), ['/delay/1']);
  assert.match(text, /\r\nConnection: close\r\n/i);
});
