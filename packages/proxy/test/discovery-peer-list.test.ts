import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Discovery } from '../src/discovery.js';
import { EndpointPool } from '../src/endpoint-pool.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A server answering as an etcd 3.4 member does: `/members` on its peer port, `/v2/members` on its client port. */
async function etcdLike(): Promise<{ url: string; close: () => Promise<void> }> {
  let url = '';
  const server = http.createServer((req, res) => {
    res.setHeader('X-Etcd-Cluster-Id', 'b835ea465ff2deec');
    res.setHeader('Content-Type', 'application/json');
    // etcd writes member ids as JSON numbers (uint64): more digits than a double holds.
    if (req.url === '/members') return res.end(`[{"id":10027908428839643195,"peerURLs":["${url}"],"name":"e1","clientURLs":["${url}"]}]`);
    if (req.url === '/v2/members') return res.end(`{"members":[{"id":"8b2a1b2fcd4b1a3b","name":"e1","peerURLs":["${url}"],"clientURLs":["${url}"]}]}`);
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("the member list is learned from an etcd member's peer /members (a bare array)", async () => {
  const etcd = await etcdLike();
  const pool = new EndpointPool(5_000);
  const discovery = new Discovery(pool, { seeds: [], bootstrapPeerUrls: [etcd.url], refreshIntervalMs: 60_000, requestTimeoutMs: 2_000, isSelf: async () => false }, quiet);
  try {
    assert.equal(await discovery.refresh(), true);
    assert.deepEqual(pool.urls(), [etcd.url]);
  } finally {
    discovery.stop();
    await etcd.close();
  }
});
