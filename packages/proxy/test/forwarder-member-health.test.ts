/**
 * The forwarder in front of one member (a loopback stand-in, fake-member.ts): neither clients going
 * away mid-request nor the proxy being starved of CPU past its response timeout make it fail another
 * client's read or mark the member failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientSide } from '../src/client-side.js';
import { EndpointPool } from '../src/endpoint-pool.js';
import { Forwarder } from '../src/forwarder.js';
import type { ProxyLogger } from '../src/logger.js';
import { ProxyMetrics } from '../src/metrics.js';
import type { ResponseHead } from '../src/response-parser.js';
import { fakeMember, STALL_MS } from './fake-member.js';

const quiet: ProxyLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A client of one forwarded request: what it was answered, and `leave()` to go away. */
class TestClient implements ClientSide {
  gone = false;
  status = 0;
  body = '';
  failure: string | undefined;
  private listener: (() => void) | undefined;
  private finish!: () => void;
  readonly done = new Promise<void>((resolve) => (this.finish = resolve));

  watchGone(listener: (() => void) | undefined): void {
    this.listener = listener;
  }
  head(head: ResponseHead): boolean {
    this.status = head.status;
    return !this.gone;
  }
  write(chunk: Buffer): boolean {
    this.body += chunk.toString('latin1');
    return true;
  }
  end(): void {
    this.finish();
  }
  abort(): void {
    this.failure ??= 'aborted';
    this.finish();
  }
  fail(status: number, cause: string): void {
    this.status = status;
    this.failure = cause;
    this.finish();
  }
  leave(): void {
    this.gone = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}

function get(forwarder: Forwarder, path: string): TestClient {
  const client = new TestClient();
  forwarder.forward({ method: 'GET', head: `GET ${path} HTTP/1.1\r\nHost: m\r\n\r\n`, body: undefined, isWatch: false }, client);
  return client;
}

test('a client going away alone on a pipelined member connection fails no other read and leaves the member healthy', async () => {
  const { stop, ep, held } = await fakeMember();
  const pool = new EndpointPool(5000);
  pool.setUrls([ep.url]);
  const metrics = new ProxyMetrics();
  const forwarder = new Forwarder(pool, metrics, { proxyId: 'test', dialTimeoutMs: 2000, responseTimeoutMs: 10_000, maxRequestBytes: 1 << 20 }, quiet);
  try {
    // Eight pipelining member connections, one held read on each.
    const holds = Array.from({ length: 8 }, () => get(forwarder, '/hold'));
    await waitUntil(() => held.length === 8, 'the held reads to reach the member');
    // The first client goes away (its connection, with nobody else waiting on it, closes); other
    // clients' reads arrive in the same turn.
    holds[0]!.leave();
    const others = Array.from({ length: 4 }, (_, i) => get(forwarder, `/small${i}`));
    for (const release of held.splice(0)) release();
    await within(Promise.all([...others, ...holds.slice(1)].map((c) => c.done)), 5000, 'the answers');
    assert.deepEqual(others.map((c) => [c.status, c.body, c.failure]), others.map((_, i) => [200, `/small${i}`, undefined]));
    assert.ok(holds.slice(1).every((c) => c.status === 200 && c.body === '/hold'));
    assert.equal(pool.isFailed(ep), false, 'the member is not marked failed');
    assert.match(metrics.render([{ url: ep.url, failed: false }]), /deimos_proxy_upstream_failures_total\{[^}]*\} 0\n/);
  } finally {
    forwarder.close();
    stop();
  }
});

test('a response timer that fires late, the proxy starved of CPU, does not fail an answer already sent', async () => {
  const { stop, ep } = await fakeMember();
  const pool = new EndpointPool(5000);
  pool.setUrls([ep.url]);
  const metrics = new ProxyMetrics();
  // The member answers at once, then the process is blocked for longer than the response timeout:
  // the timer is due before the answer is read.
  const forwarder = new Forwarder(pool, metrics, { proxyId: 'test', dialTimeoutMs: 2000, responseTimeoutMs: STALL_MS / 2, maxRequestBytes: 1 << 20 }, quiet);
  try {
    const client = get(forwarder, '/stall');
    await within(client.done, 5000, 'the answer');
    assert.deepEqual([client.status, client.body, client.failure], [200, '/stall', undefined]);
    assert.equal(pool.isFailed(ep), false, 'the member is not marked failed');
  } finally {
    forwarder.close();
    stop();
  }
});

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test('a member whose answer a client gave up waiting for is avoided by the next picks (a paused member held watches through the proxy while it was paused)', async () => {
  const a = await fakeMember();
  const b = await fakeMember();
  const pool = new EndpointPool(5000);
  pool.setUrls([a.ep.url, b.ep.url]);
  const forwarder = new Forwarder(pool, new ProxyMetrics(), { proxyId: 'test', dialTimeoutMs: 2000, responseTimeoutMs: 10_000, maxRequestBytes: 1 << 20 }, quiet);
  try {
    // Both measured first (a member never measured is picked before any other).
    await within(Promise.all([get(forwarder, '/first').done, get(forwarder, '/second').done]), 5000, 'the first reads');
    assert.deepEqual([a.requests(), b.requests()], [1, 1]);
    // A watch that its member never answers, as a paused one does, and whose client gives up.
    const watch = new TestClient();
    forwarder.forward({ method: 'GET', head: 'GET /hold HTTP/1.1\r\nHost: m\r\n\r\n', body: undefined, isWatch: true }, watch);
    await waitUntil(() => a.held.length + b.held.length === 1, 'the watch to reach a member');
    const stuck = a.held.length === 1 ? a : b;
    await new Promise((resolve) => setTimeout(resolve, 300));
    watch.leave();
    const before = stuck.requests();
    const reads = Array.from({ length: 6 }, (_, i) => get(forwarder, `/after${i}`));
    await within(Promise.all(reads.map((c) => c.done)), 5000, 'the later reads');
    assert.equal(stuck.requests(), before, 'no later read went to the member that left a client waiting');
  } finally {
    forwarder.close();
    for (const m of [a, b]) {
      for (const release of m.held.splice(0)) release();
      m.stop();
    }
  }
});

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
