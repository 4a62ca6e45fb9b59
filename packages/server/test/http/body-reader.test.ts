import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readBody, writeBodyError, BodyReadError } from '../../src/http/body-reader.js';
import { startServer, request, type Harness } from './support/http-harness.js';

const LIMIT = 1024;
let harness: Harness;
const outcomes: string[] = [];

before(async () => {
  harness = await startServer(async (req, res) => {
    try {
      const body = await readBody(req, { maxBytes: LIMIT, timeoutMs: req.headers['x-timeout'] ? Number(req.headers['x-timeout']) : 5000 });
      outcomes.push('ok');
      res.end(`got ${body.length}`);
    } catch (e) {
      if (!(e instanceof BodyReadError)) throw e;
      outcomes.push(e.code);
      writeBodyError(res, e, { clusterId: 'c1' });
    }
  });
});
after(async () => {
  await harness.close();
});

const TOO_LARGE = '{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":0}\n';

describe('reading a body with a limit', () => {
  test('a body within the limit is read whole', async () => {
    const r = await request(harness.port, { method: 'PUT', path: '/', body: 'x'.repeat(LIMIT) });
    assert.equal(r.body, `got ${LIMIT}`);
  });
  test('an empty body is read as zero bytes', async () => {
    const r = await request(harness.port, { method: 'GET', path: '/' });
    assert.equal(r.body, 'got 0');
  });
  test('a declared Content-Length over the limit is refused without reading', async () => {
    const r = await request(harness.port, { method: 'PUT', path: '/', body: 'x'.repeat(LIMIT + 1) });
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-etcd-index'], '0');
    assert.equal(r.body, TOO_LARGE);
  });
  test('a chunked body that grows over the limit is refused and the server keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: harness.port, method: 'PUT', path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The server may close while we are still uploading; the answer must have arrived first.
        if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
      });
      let sent = 0;
      const pump = (): void => {
        while (sent < 64 * LIMIT) {
          sent += 512;
          if (!req.write('y'.repeat(512))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(status, 400);
    const again = await request(harness.port, { method: 'PUT', path: '/', body: 'ok' });
    assert.equal(again.body, 'got 2');
  });
  test('a huge upload is cut off without crashing the server', async () => {
    const closed = await new Promise<string>((resolve) => {
      const socket = net.connect(harness.port, '127.0.0.1', () => {
        socket.write(`PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const chunk = `${(64 * 1024).toString(16)}\r\n${'z'.repeat(64 * 1024)}\r\n`;
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      });
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(answer));
    });
    assert.match(closed, /^HTTP\/1\.1 400 /);
    const again = await request(harness.port, { method: 'PUT', path: '/', body: 'still up' });
    assert.equal(again.body, 'got 8');
  });
  test('a body that does not arrive in time is abandoned and the socket closed', async () => {
    const before = outcomes.length;
    await new Promise<void>((resolve) => {
      const socket = net.connect(harness.port, '127.0.0.1', () => {
        socket.write(`PUT / HTTP/1.1\r\nHost: x\r\nX-Timeout: 50\r\nContent-Length: 10\r\n\r\nabc`);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    assert.equal(outcomes[before], 'BODY_TIMEOUT');
  });
  test('a client that goes away mid-body is reported as aborted', async () => {
    const before = outcomes.length;
    await new Promise<void>((resolve) => {
      const socket = net.connect(harness.port, '127.0.0.1', () => {
        socket.write(`PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc`, () => setTimeout(() => socket.destroy(), 20));
      });
      socket.on('close', () => resolve());
    });
    const deadline = Date.now() + 2000;
    while (outcomes.length === before && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(outcomes[before], 'BODY_ABORTED');
  });
});
