/**
 * Failover and retry rules of the client against scripted local HTTP servers: which failures move
 * a request to the next endpoint, and which writes are never sent twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeimosClient } from '../src/client.js';
import { ClusterUnavailableError, DeimosError, OutcomeUnknownError } from '../src/errors.js';
import { InvalidResponseError } from '../src/response-shape.js';

type Behaviour = 'ok' | 'raft-500' | 'reset' | 'hang' | 'exists' | 'headers-only' | 'html' | 'read-only' | 'cut-after-headers' | 'cut-always';

/** A scripted member: answers every request according to `behaviour`, counting requests. */
class FakeMember {
  behaviour: Behaviour = 'ok';
  requests: string[] = [];
  /** `X-Deimos-Member` on watch registrations and on /version (a proxy in front: they differ). */
  watchMember: string | undefined;
  versionMember: string | undefined;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    req.resume();
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    // A member that holds watches answers the liveness check (a paused or cut-off one does not).
    if (req.url === '/version' && (this.behaviour === 'ok' || this.behaviour === 'headers-only')) {
      if (this.versionMember !== undefined) res.setHeader('X-Deimos-Member', this.versionMember);
      return json(200, { etcdserver: '3.4.23', etcdcluster: '3.4.0' });
    }
    switch (this.behaviour) {
      case 'ok':
        return json(200, { action: req.method === 'GET' ? 'get' : 'set', node: { key: '/k', value: 'v', modifiedIndex: 7, createdIndex: 7 } });
      case 'raft-500':
        return json(500, { errorCode: 300, message: 'Raft Internal Error', cause: 'etcdserver: request timed out', index: 0 });
      case 'read-only': // a read-only deimos-proxy refusing a write
        return json(501, { message: 'deimos-proxy is read-only: PUT is not allowed (only GET and HEAD)' });
      case 'exists':
        return json(412, { errorCode: 105, message: 'Key already exists', cause: '/k', index: 7 });
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        return; // never answers
      case 'html':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html>\n<html><body>Welcome to nginx!</body></html>\n');
        return;
      case 'cut-always': // registers every poll, then cuts it
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7' });
        res.flushHeaders();
        setTimeout(() => req.socket.destroy(), 2);
        return;
      case 'cut-after-headers': // a registered watch cut (a proxy whose member went), then answers again
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7' });
        res.flushHeaders();
        this.behaviour = 'ok';
        setTimeout(() => req.socket.destroy(), 20);
        return;
      case 'headers-only':
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '7', ...(this.watchMember !== undefined ? { 'X-Deimos-Member': this.watchMember } : {}) });
        res.flushHeaders(); // a registered watch that sees no event
        return;
    }
  }
}

describe('failover rules', () => {
  const a = new FakeMember();
  const b = new FakeMember();
  let clients: DeimosClient[] = [];
  const client = (endpoints: string[], timeoutMs = 5_000) => {
    const c = new DeimosClient({ endpoints, sync: false, timeoutMs });
    clients.push(c);
    return c;
  };

  before(async () => {
    await a.listen();
    await b.listen();
  });

  after(async () => {
    for (const c of clients) c.close();
    clients = [];
    await a.close();
    await b.close();
  });

  const reset = (ba: Behaviour, bb: Behaviour) => {
    a.behaviour = ba;
    b.behaviour = bb;
    a.requests = [];
    b.requests = [];
    a.watchMember = a.versionMember = b.watchMember = b.versionMember = undefined;
  };

  test('a read moves on after a 500 (errorCode 300) and pins the member that answered', async () => {
    reset('raft-500', 'ok');
    const c = client([a.url, b.url]);
    assert.equal((await c.get('/k')).node?.value, 'v');
    assert.equal(c.currentEndpoint, b.url);
    assert.equal(a.requests.length, 1);
    await c.get('/k');
    assert.equal(a.requests.length, 1, 'the next read goes to the pinned member first');
  });

  test('a web page (no member answers with markup) moves a read on; a plain write is not repeated; all pages say what etcd says', async () => {
    reset('html', 'ok');
    const c = client([a.url, b.url]);
    assert.equal((await c.get('/k')).node?.value, 'v');
    assert.equal(c.currentEndpoint, b.url, 'the page is not pinned');
    const writer = client([a.url, b.url]);
    await assert.rejects(writer.set('/k', 'v'), (err: unknown) => err instanceof InvalidResponseError && err.endpoint === a.url);
    assert.equal(b.requests.length, 1, 'the write went to the page only');
    assert.equal((await writer.set('/k', 'v')).action, 'set', 'the next write starts at the member');
    assert.equal(b.requests.length, 2);
    reset('html', 'html');
    await assert.rejects(client([a.url, b.url]).get('/k'), (err: unknown) => err instanceof InvalidResponseError && err.endpoint === a.url && /response is invalid json/.test(err.message));
  });

  test('a watch that ends when the cluster is unreachable polls its endpoint again at once after a registered poll was cut', async () => {
    reset('cut-after-headers', 'ok');
    const c = client([a.url]);
    for await (const event of c.watch('/k', { endWhenUnavailable: true, repollAfterMs: 0 })) {
      assert.equal(event.node?.value, 'v');
      break;
    }
    assert.equal(a.requests.filter((r) => r.includes('wait=true')).length, 2, 'the cut poll, then the one that got the event');
    // A poll that cannot connect at all still ends it.
    const down = client(['http://127.0.0.1:9']);
    await assert.rejects((async () => {
      for await (const _ of down.watch('/k', { endWhenUnavailable: true })) assert.fail('no event');
    })(), ClusterUnavailableError);
  });

  test('an endpoint that cuts every poll it registers is polled with a backoff, not in a tight loop', async () => {
    reset('cut-always', 'ok');
    const c = client([a.url]);
    const stop = new AbortController();
    const done = (async () => {
      for await (const _ of c.watch('/k', { endWhenUnavailable: true, repollAfterMs: 0, signal: stop.signal })) assert.fail('no event was sent');
    })().catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    stop.abort();
    await done;
    const polls = a.requests.filter((r) => r.includes('wait=true')).length;
    // Backoff 0, 0, 200, 400, 800 ms...: a handful in 1.5 s; without it, hundreds.
    assert.ok(polls >= 2 && polls <= 12, `${polls} polls in 1.5 s`);
  });

  test('an idle watch whose member answers its liveness checks keeps its one registration, as etcdctl\'s', async () => {
    reset('headers-only', 'ok');
    const stop = new AbortController();
    const c = client([a.url], 300);
    const events = (async () => {
      for await (const _ of c.watch('/k', { afterIndex: 2, repollAfterMs: 20, signal: stop.signal })) assert.fail('no event was sent');
    })().catch((err: unknown) => err);
    const checks = () => a.requests.filter((r) => r === 'GET /version').length;
    const deadline = Date.now() + 10_000;
    while (checks() < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    await events;
    assert.ok(checks() >= 3, `liveness checks: ${JSON.stringify(a.requests)}`);
    // Polled again from its old index, a quiet key's watch died with 401 once a busy cluster's
    // history had moved past that index.
    assert.deepEqual(a.requests.filter((r) => r.includes('wait=true')).map((r) => new URL(r.split(' ')[1]!, 'http://x').searchParams.get('waitIndex')), ['3']);
  });

  test('a client\'s idle watches on one member share one liveness check per interval', async () => {
    reset('headers-only', 'ok');
    const stop = new AbortController();
    const c = client([a.url], 300);
    const watches = 30;
    const running = Array.from({ length: watches }, (_, i) =>
      (async () => {
        for await (const _ of c.watch(`/k${i}`, { afterIndex: 2, repollAfterMs: 100, signal: stop.signal })) assert.fail('no event was sent');
      })().catch((err: unknown) => err),
    );
    const checks = () => a.requests.filter((r) => r === 'GET /version').length;
    const polls = () => a.requests.filter((r) => r.includes('wait=true')).length;
    const deadline = Date.now() + 10_000;
    while ((polls() < watches || checks() < 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    // Every watch is registered and past its first interval: each checking for itself made 30
    // checks by now (shared, 30 take 3 s).
    await new Promise((resolve) => setTimeout(resolve, 250));
    const seen = checks();
    stop.abort();
    await Promise.all(running);
    assert.ok(seen >= 2 && seen < watches, `${seen} checks for ${watches} watches`);
    assert.equal(polls(), watches, 'every watch stayed registered once');
  });

  test('an idle watch whose check another member answered (a proxy in front) is polled again past its registration index', async () => {
    reset('headers-only', 'ok');
    a.watchMember = 'm1';
    a.versionMember = 'm2'; // the proxy sent the check to another member: m1 may be the one that stopped
    const stop = new AbortController();
    const c = client([a.url], 300);
    const events = (async () => {
      for await (const _ of c.watch('/k', { afterIndex: 2, repollAfterMs: 20, signal: stop.signal })) assert.fail('no event was sent');
    })().catch((err: unknown) => err);
    const polls = () => a.requests.filter((r) => r.includes('wait=true'));
    const deadline = Date.now() + 10_000;
    while (polls().length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    await events;
    assert.deepEqual(polls().slice(0, 3).map((r) => new URL(r.split(' ')[1]!, 'http://x').searchParams.get('waitIndex')), ['3', '8', '8']);
    // Answered by the member that holds the watch: it stays registered.
    reset('headers-only', 'ok');
    a.watchMember = a.versionMember = 'm1';
    const stop2 = new AbortController();
    const quiet = (async () => {
      for await (const _ of client([a.url], 300).watch('/k', { afterIndex: 2, repollAfterMs: 20, signal: stop2.signal })) assert.fail('no event was sent');
    })().catch((err: unknown) => err);
    while (a.requests.filter((r) => r === 'GET /version').length < 3 && Date.now() < deadline + 10_000) await new Promise((resolve) => setTimeout(resolve, 10));
    stop2.abort();
    await quiet;
    assert.equal(polls().length, 1);
  });

  test('a read moves on after a reset connection and after a timeout', async () => {
    reset('reset', 'ok');
    assert.equal((await client([a.url, b.url]).get('/k')).node?.value, 'v');
    reset('hang', 'ok');
    assert.equal((await client([a.url, b.url], 300).get('/k')).node?.value, 'v');
  });

  test('a plain set answered with a 500 is not sent to another member', async () => {
    reset('raft-500', 'ok');
    await assert.rejects(client([a.url, b.url]).set('/k', 'v'), (err: unknown) => err instanceof DeimosError && err.errorCode === 300 && err.status === 500);
    assert.equal(b.requests.length, 0);
  });

  test('a plain set whose connection was reset reports an unknown outcome and is not repeated', async () => {
    reset('reset', 'ok');
    await assert.rejects(client([a.url, b.url]).set('/k', 'v'), OutcomeUnknownError);
    await assert.rejects(client([a.url, b.url]).delete('/k'), OutcomeUnknownError);
    await assert.rejects(client([a.url, b.url]).createInOrder('/q', 'v'), OutcomeUnknownError);
    assert.equal(b.requests.length, 0);
  });

  test('a plain set that reached no member (connection refused) goes to the next one', async () => {
    reset('ok', 'ok');
    const refused = new FakeMember();
    await refused.listen();
    const deadUrl = refused.url;
    await refused.close();
    assert.equal((await client([deadUrl, b.url]).set('/k', 'v')).action, 'set');
    assert.equal(b.requests.length, 1);
  });

  test("a conditional write answered 501 (a read-only proxy) gets that answer, not a 'cluster unavailable' after trying the others", async () => {
    reset('read-only', 'ok');
    const err = await client([a.url, b.url]).create('/k', 'v').catch((e: unknown) => e);
    assert.ok(err instanceof DeimosError, String(err));
    assert.equal(err.status, 501);
    assert.match(err.message, /read-only/);
    assert.equal(b.requests.length, 0);
  });

  test('a retried create flags a 105 that may come from its own first attempt', async () => {
    reset('reset', 'exists');
    const err = await client([a.url, b.url]).create('/k', 'v').catch((e: unknown) => e);
    assert.ok(err instanceof DeimosError && err.errorCode === 105);
    assert.equal(err.afterUnknownOutcome, true);
    reset('ok', 'exists');
    const direct = await client([b.url]).create('/k', 'v').catch((e: unknown) => e);
    assert.ok(direct instanceof DeimosError && direct.afterUnknownOutcome === false);
  });

  test('a watch leaves a member that stops answering, resuming from the registration index', async () => {
    reset('headers-only', 'ok');
    const c = client([a.url, b.url], 300);
    const it = c.watch('/k', { repollAfterMs: 300 });
    const first = it.next();
    while (a.requests.length === 0) await new Promise((r) => setTimeout(r, 10)); // registered on a (scripted: no event)
    a.behaviour = 'hang'; // a is paused from now on: its liveness check and any re-poll get no answer
    const ev = await first;
    assert.equal(ev.value?.node?.value, 'v');
    assert.ok(a.requests.includes('GET /version'), `a's liveness was checked: ${JSON.stringify(a.requests)}`);
    assert.equal(b.requests.length, 1);
    assert.match(b.requests[0]!, /waitIndex=8/, 'resumed after the index a registered the watch at');
    await it.return?.();
  });

  test('every member failing gives ClusterUnavailableError listing each failure', async () => {
    reset('raft-500', 'reset');
    const err = await client([a.url, b.url]).get('/k').catch((e: unknown) => e);
    assert.ok(err instanceof ClusterUnavailableError);
    assert.equal(err.errors.length, 2);
    assert.ok(err.errors[0] instanceof DeimosError);
  });

  test('many requests in flight at once on one client print no MaxListenersExceededWarning', async () => {
    reset('hang', 'ok');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const c = client([a.url], 30_000);
      // Reads of a member slow to answer: each holds its request open.
      const pending = Array.from({ length: 20 }, () => c.get('/k').catch((e: unknown) => e));
      await new Promise<void>((resolve) => {
        const check = () => (a.requests.length >= 20 ? resolve() : setTimeout(check, 10));
        check();
      });
      // The warning is emitted on the next tick after the 11th listener.
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
      c.close();
      await Promise.allSettled(pending);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

