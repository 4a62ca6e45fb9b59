import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { orderedRequests } from '@deimos/net';
import { goRequestRefusal } from '@deimos/protocol';

// A real node:http server on loopback with the ordering wrapper: /slow/<ms> answers after that many
// ms; every handler start and answer is logged, so overlap shows.
let server: http.Server;
let port: number;
const log: string[] = [];

before(async () => {
  const ordered = orderedRequests((req, res) => {
    log.push(`start ${req.url}`);
    const ms = req.url!.startsWith('/slow/') ? Number(req.url!.slice('/slow/'.length)) : 0;
    req.resume();
    req.on('end', () => setTimeout(() => {
      log.push(`end ${req.url}`);
      res.writeHead(200, { 'Content-Length': req.url!.length });
      res.end(req.url);
    }, ms));
  }, goRequestRefusal);
  server = http.createServer({ requireHostHeader: false }, ordered.handler);
  server.on('clientError', (_err, socket: net.Socket) => ordered.endWith(socket, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends `text` and returns everything received until the server closes or `until` matches. */
function exchange(text: string, until: (received: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer; got: ${JSON.stringify(received)}`));
    }, 10_000);
    const done = (): void => {
      clearTimeout(deadline);
      socket.destroy();
      resolve(received);
    };
    socket.on('data', (d) => {
      received += d.toString('latin1');
      if (until(received)) done();
    });
    socket.on('close', done);
    socket.on('error', reject);
    socket.write(text);
  });
}

const get = (path: string, extra = 'Host: x\r\n'): string => `GET ${path} HTTP/1.1\r\n${extra}\r\n`;
const count = (text: string, s: string): number => text.split(s).length - 1;

test('pipelined requests on one connection start only once the one before has been answered', async () => {
  log.length = 0;
  const text = await exchange(get('/slow/40') + get('/slow/1') + get('/slow/10'), (t) => count(t, 'HTTP/1.1 200') === 3);
  assert.ok(text.indexOf('/slow/40') < text.indexOf('/slow/1') && text.indexOf('/slow/1') < text.indexOf('/slow/10'));
  assert.deepEqual(log, ['start /slow/40', 'end /slow/40', 'start /slow/1', 'end /slow/1', 'start /slow/10', 'end /slow/10']);
});

test('a request refused by Go\'s Host check is answered after the ones before it; nothing after it runs', async () => {
  log.length = 0;
  const text = await exchange(get('/slow/20') + get('/no-host', '') + get('/after'), () => false);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\/slow\/20HTTP\/1\.1 400 Bad Request: missing required Host header\r\n/);
  assert.ok(text.endsWith('\r\n\r\n400 Bad Request: missing required Host header'));
  assert.deepEqual(log, ['start /slow/20', 'end /slow/20']);
});

test('a malformed request after a running one is answered 400 once that one is answered', async () => {
  log.length = 0;
  const text = await exchange(get('/slow/30') + 'GET /bad HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', () => false);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\/slow\/30HTTP\/1\.1 400 Bad Request\r\n/);
  assert.deepEqual(log, ['start /slow/30', 'end /slow/30']);
});
