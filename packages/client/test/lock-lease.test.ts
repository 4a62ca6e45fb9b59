/**
 * A lock whose queue key was answered long after it was sent (a cluster that stalled, then
 * resumed): the key heads the queue at once, but the lease counted from the request has little
 * left. The lock must not be handed over on that lease: the key is refreshed first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeimosClient } from '../src/client.js';
import { Lock } from '../src/lock.js';

const KEY = '/locks/l/00000000000000000007';
/** How long the scripted member holds the answer to the POST that makes the queue key. */
const POST_DELAY_MS = 2_000;

test('a lock acquired on a nearly spent lease refreshes its key before it is held, and stays held', async () => {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    requests.push(`${req.method} ${req.url}`);
    const node = { key: KEY, value: 'me', ttl: 3, modifiedIndex: 7, createdIndex: 7 };
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method === 'POST') return void setTimeout(() => json(201, { action: 'create', node }), POST_DELAY_MS);
    if (req.method === 'GET') return json(200, { action: 'get', node: { key: '/locks/l', dir: true, nodes: [node], modifiedIndex: 7, createdIndex: 7 } });
    if (req.method === 'PUT') return json(200, { action: 'update', node: { ...node, modifiedIndex: 8 } });
    return json(200, { action: 'compareAndDelete', node: { key: KEY, modifiedIndex: 9, createdIndex: 7 } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DeimosClient({ endpoints: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`], sync: false });
  try {
    // ttl 3 s: the lease counts 2.5 s from the POST, so 0.5 s are left when its answer comes,
    // less than one keep-alive interval (1 s).
    const lock = new Lock(client, 'l', { ttl: 3, value: 'me', releaseOnExit: false });
    await lock.acquire();
    assert.ok(requests.some((r) => r.startsWith('PUT ') && r.includes('refresh=true')), `a refresh before the lock was held: ${requests.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(lock.held, true, 'still held a second later: the lease was renewed, not left to run out');
    await lock.release();
  } finally {
    client.close();
    server.closeAllConnections();
    server.close();
  }
});
