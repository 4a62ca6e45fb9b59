import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { ConnectionAdmission } from '@deimos/net';
import { ConnectionGate } from '../../src/http/connection-gate.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { createLogger } from '../../src/util/logger.js';

/** A node:http server on loopback behind a gate of `limit`; requests to /hold are never answered. */
async function gatedServer(limit: number, tls = false, admission?: ConnectionAdmission) {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') return void held.push(res);
    res.end('ok');
  });
  const warnings: string[] = [];
  const gate = new ConnectionGate({ side: 'client', limit, logger: createLogger('warn', 'test', (l) => warnings.push(l)), admission });
  const metrics = new MetricsRegistry();
  gate.registerMetrics(metrics);
  gate.guard(server, { tls });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { server, gate, metrics, port, warnings, close };
}

/** Opens a connection, sends `path`, and collects what comes back until the server closes it (or `waitMs` pass). */
async function exchange(port: number, path: string, waitMs = 2_000): Promise<{ socket: net.Socket; text: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (text += c));
  const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), waitMs))]);
  return { socket, text, closed };
}

test('connections past the limit are answered 503 with a JSON message and closed; a freed slot is served again', async (t) => {
  const s = await gatedServer(2);
  t.after(s.close);
  const a = await exchange(s.port, '/hold', 200);
  const b = await exchange(s.port, '/hold', 200);
  assert.equal(a.closed || b.closed, false);
  assert.equal(s.gate.open, 2);
  const refused = await exchange(s.port, '/');
  assert.equal(refused.closed, true);
  assert.match(refused.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(refused.text, /\r\nRetry-After: 1\r\n/);
  assert.deepEqual(JSON.parse(refused.text.slice(refused.text.indexOf('\r\n\r\n') + 4)), { message: 'too many open client connections (limit 2); retry later or use another member' });
  assert.equal(s.gate.refused, 1);
  assert.equal(s.warnings.length, 1);
  const text = s.metrics.render();
  assert.match(text, /^deimos_client_connections 2$/m);
  assert.match(text, /^deimos_client_connections_limit 2$/m);
  assert.match(text, /^deimos_client_connections_refused_total 1$/m);
  a.socket.destroy();
  await once(a.socket, 'close');
  // The server sees the close a moment later: poll with a deadline.
  const deadline = Date.now() + 5_000;
  while ((s.gate.open as number) !== 1) {
    assert.ok(Date.now() < deadline, `still ${s.gate.open} open`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const served = await exchange(s.port, '/', 200);
  assert.match(served.text, /^HTTP\/1\.1 200 OK\r\n/);
  b.socket.destroy();
  served.socket.destroy();
});

test('a TLS listener past its limit closes the connection without a plain-text answer', async (t) => {
  const s = await gatedServer(1, true);
  t.after(s.close);
  const a = await exchange(s.port, '/hold', 200);
  const refused = await exchange(s.port, '/');
  assert.equal(refused.closed, true);
  assert.equal(refused.text, '');
  assert.equal(s.gate.refused, 1);
  a.socket.destroy();
});

test('a limit below 1 is refused', () => {
  assert.throws(() => new ConnectionGate({ side: 'peer', limit: 0, logger: createLogger('error', 'test', () => undefined) }), RangeError);
});

test('with a shared bound (client workers), a connection is served only once granted, refused when not, and its close gives the slot back', async (t) => {
  // A shared bound of 2 whose answers the test releases by hand.
  let held = 0;
  const asks: Array<(granted: boolean) => void> = [];
  const admission: ConnectionAdmission = {
    acquire: (done) => void asks.push(done),
    release: () => void held--,
  };
  const answerNext = (): void => {
    const done = asks.shift()!;
    const granted = held < 2;
    if (granted) held++;
    done(granted);
  };
  const s = await gatedServer(10, false, admission);
  t.after(s.close);
  const first = exchange(s.port, '/', 1_000);
  await waitUntil(() => asks.length === 1);
  assert.equal(s.gate.open, 1, 'counted while it waits (it holds a descriptor)');
  answerNext();
  const served = await first;
  assert.match(served.text, /^HTTP\/1\.1 200 OK\r\n/);
  served.socket.destroy();
  await waitUntil(() => held === 0 && s.gate.open === 0);
  const a = exchange(s.port, '/hold', 300);
  const b = exchange(s.port, '/hold', 300);
  await waitUntil(() => asks.length === 2);
  answerNext();
  answerNext();
  assert.equal((await a).closed || (await b).closed, false);
  const refused = exchange(s.port, '/');
  await waitUntil(() => asks.length === 1);
  answerNext();
  const r = await refused;
  assert.equal(r.closed, true);
  assert.match(r.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.equal(s.gate.refused, 1);
  // A connection that goes before its answer: once granted, its close gives the slot back.
  (await a).socket.destroy();
  await waitUntil(() => held === 1);
  const early = net.connect(s.port, '127.0.0.1');
  early.on('error', () => undefined);
  await waitUntil(() => asks.length === 1);
  early.destroy();
  answerNext();
  await waitUntil(() => held === 1 && s.gate.open === 1);
  (await b).socket.destroy();
  await waitUntil(() => held === 0 && s.gate.open === 0);
});

async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('with a shared bound, a connection whose peer ends before the answer (having sent nothing) is closed, and its slot given back', async (t) => {
  let held = 0;
  const asks: Array<(granted: boolean) => void> = [];
  const admission: ConnectionAdmission = { acquire: (done) => void asks.push(done), release: () => void held-- };
  const s = await gatedServer(10, false, admission);
  t.after(s.close);
  const socket = net.connect(s.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let closed = false;
  socket.once('close', () => (closed = true));
  socket.end();
  await waitUntil(() => asks.length === 1);
  // node:http, handed a socket whose end it never saw, would hold it open until its timeouts.
  await waitUntil(() => s.gate.open === 0);
  held++;
  asks.shift()!(true);
  await waitUntil(() => closed && held === 0);
});
