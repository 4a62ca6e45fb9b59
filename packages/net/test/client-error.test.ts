import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { answerClientErrors, orderedRequests } from '@deimos/net';
import { goRequestRefusal } from '@deimos/protocol';

/** Resolves with the next value `arm` delivers, or rejects after `ms`. */
function within<T>(ms: number, what: string, arm: (deliver: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    arm((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

test('a connection that keeps sending after a malformed request is answered once and gains no error listener per chunk', async () => {
  const ordered = orderedRequests((_req, res) => res.end('ok'), goRequestRefusal);
  const server = http.createServer({ requireHostHeader: false }, ordered.handler);
  const onClientError = answerClientErrors(ordered, { handshakeUnfinished: () => false, debug: () => undefined });
  let serverSocket: net.Socket | undefined;
  let clientErrors = 0;
  let wake: (() => void) | undefined;
  server.on('connection', (socket: net.Socket) => (serverSocket = socket));
  server.on('clientError', (err: Error, socket: net.Socket) => {
    clientErrors++;
    onClientError(err, socket);
    wake?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  // Half-open allowed: the client's side stays open after the server's answer and FIN, as a client
  // still sending its (large, malformed) request does.
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let received = '';
  client.on('data', (d: Buffer) => (received += d.toString('latin1')));
  try {
    await within(5_000, 'connection', (deliver) => client.once('connect', () => deliver(undefined)));
    // node:http feeds every later chunk to the failed parser and reports each as a 'clientError'
    // (the hostile suite's 20000-header request arrives in many chunks). Each chunk waits for its
    // report, so each is its own read on the server; all fit well within the close grace (1 s).
    const chunks = ['GET /version HTTP/1.1\r\nHost: x\r\nNoColon\r\n', ...Array.from({ length: 15 }, (_, i) => `X-More-${i}: 1\r\n`)];
    const listeners: number[] = [];
    for (const chunk of chunks) {
      if (serverSocket?.destroyed) break;
      const reported = within(5_000, 'clientError', (deliver) => (wake = () => deliver(undefined)));
      client.write(chunk);
      await reported;
      listeners.push(serverSocket!.listenerCount('error'));
    }
    assert.ok(clientErrors > 10, `only ${clientErrors} clientError reports: the server closed the connection before the chunks were sent`);
    assert.deepEqual(listeners, listeners.map(() => listeners[0]), `error listeners after each report: ${listeners.join(', ')}`);
    assert.equal(received.split('HTTP/1.1 400 Bad Request').length - 1, 1, received);
  } finally {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
