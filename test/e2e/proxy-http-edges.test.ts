/**
 * HTTP/1.1 edges of the proxy's client port on a real deimos-proxy in front of a real member, over raw
 * sockets, on both of its paths (the client loop and node:http behind it), as the member's client port
 * answers them (client-port-http.test.ts): a client that half-closes after a request still gets its
 * answer; pipelined requests run in order, a read seeing the write sent before it; a trickled body, a
 * bare-LF head and a missing Host header get a prompt, bounded answer as etcd's Go server gives. The
 * listener is bounded in connections (--max-client-conns, by default derived from the open-files
 * limit) with a clear 503, and failed accepts do not end the proxy.
 *
 * e2e-lane: beside (one member at a time, mostly waiting on its timeouts; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { parseResponses, RawConnection, type RawResponse } from '../support/raw-connection.js';
import { FORM, formPut, freshGet, GO_MISSING_HOST, metric, rawGet, valueOf } from '../support/raw-requests.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own processes' : false;
const put = formPut;
const get = rawGet;

const opened: RawConnection[] = [];
async function connect(url: string): Promise<RawConnection> {
  const c = await RawConnection.open(url);
  opened.push(c);
  return c;
}

/** A watch no write will wake, on its own connection: it holds the connection open. */
async function watchForever(url: string): Promise<RawConnection> {
  const w = await connect(url);
  w.send(get('/v2/keys/idle/never?wait=true'));
  await w.until((t) => t.startsWith('HTTP/1.1 200 ') || w.closed, 'an answer to the watch');
  return w;
}

after(() => {
  for (const c of opened) c.destroy();
});

describe('proxy client port HTTP edges, on the loop and through node:http', { skip: SKIP }, () => {
  let member: DeimosProcess;
  let proxy: ProxyProcess;
  const read = async (path: string): Promise<RawResponse> => {
    const c = await connect(proxy.url);
    c.send(get(path));
    const [r] = await c.responses(1, `GET ${path}`);
    c.destroy();
    return r!;
  };

  before(async () => {
    member = await DeimosProcess.start({ name: 'edges1' });
    proxy = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl] });
  });
  after(async () => {
    await proxy?.stop();
    await member?.destroy();
  });

  test('a client that half-closes after a request node:http serves gets its answer, then the close', async () => {
    for (const form of ['chunked', 'expect', 'duplicate'] as const) {
      const c = await connect(proxy.url);
      c.send(put(`/v2/keys/half/${form}`, form, form));
      c.socket.end();
      const [answer] = await c.responses(1, `the answer to a ${form} PUT`);
      assert.equal(answer!.status, 201, form);
      await c.until(() => c.closed, `the close after the ${form} PUT`);
      assert.equal(valueOf(await read(`/v2/keys/half/${form}`)), form);
    }
  });

  test('a half-closed connection moving from the loop to node:http gets every answer', async () => {
    const c = await connect(proxy.url);
    c.send(put('/v2/keys/half/first', 'loop') + put('/v2/keys/half/second', 'node', 'chunked') + get('/v2/keys/half/second'));
    c.socket.end();
    const answers = await c.responses(3, 'the three answers');
    assert.deepEqual(answers.map((a) => a.status), [201, 201, 200]);
    assert.equal(valueOf(answers[2]!), 'node');
    await c.until(() => c.closed, 'the close');
  });

  test('a GET pipelined behind a chunked PUT of the same key sees the new value', async () => {
    for (let i = 0; i < 10; i++) {
      const c = await connect(proxy.url);
      c.send(put('/v2/keys/order/k', `v${i}`, 'chunked') + get('/v2/keys/order/k') + get('/v2/keys/order/k?serializable=true'));
      const answers = await c.responses(3, `round ${i}`);
      c.destroy();
      assert.deepEqual(answers.map((a) => a.status), [i === 0 ? 201 : 200, 200, 200], `round ${i}`);
      assert.equal(valueOf(answers[1]!), `v${i}`, `round ${i}: the linearizable GET`);
      assert.equal(valueOf(answers[2]!), `v${i}`, `round ${i}: the serializable GET`);
    }
  });

  test('pipelined writes on a node:http connection are applied in order', async () => {
    const c = await connect(proxy.url);
    let text = '';
    for (let i = 0; i < 8; i++) text += put('/v2/keys/order/seq', `s${i}`, i % 2 === 0 ? 'chunked' : 'duplicate') + get('/v2/keys/order/seq');
    c.send(text);
    const answers = await c.responses(16, 'sixteen answers');
    c.destroy();
    for (let i = 0; i < 8; i++) assert.equal(valueOf(answers[2 * i + 1]!), `s${i}`, `the GET after write ${i}`);
  });

  test('a body trickled on either path holds the connection only for a bounded time', async () => {
    const trickle = async (head: string, piece: string): Promise<void> => {
      const c = await connect(proxy.url);
      c.send(head);
      // One piece of body every 200 ms: never idle, never finished.
      const timer = setInterval(() => {
        if (!c.closed) c.send(piece);
      }, 200);
      try {
        await c.until(() => c.closed, `the close of the trickling ${JSON.stringify(head)}`, 60_000);
      } finally {
        clearInterval(timer);
      }
    };
    await Promise.all([
      trickle('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n', '1\r\nx\r\n'),
      trickle(`PUT /v2/keys/trickle/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n`, '1\r\nx\r\n'),
      trickle(`PUT /v2/keys/trickle/b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\nContent-Length: 100000\r\n\r\nvalue=`, 'x'),
    ]);
    assert.equal((await read('/v2/keys/trickle/a')).status, 404, 'nothing of a trickled write was applied');
  });

  test('an absolute-form target is forwarded by its path, a watch among them', async () => {
    const w = await connect(proxy.url);
    w.send(`PUT ${proxy.url}/v2/keys/absolute/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=a`);
    const [put] = await w.responses(1, 'the absolute-form PUT');
    assert.equal(put!.status, 201, put!.body);
    const index = Number(JSON.parse(put!.body).node.modifiedIndex);
    const c = await connect(proxy.url);
    c.send(`GET http://elsewhere.example/v2/keys/absolute/k?wait=true&waitIndex=${index} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const [watched] = await c.responses(1, 'the absolute-form watch');
    assert.equal(watched!.status, 200, watched!.body);
    assert.equal(JSON.parse(watched!.body).node.value, 'a');
  });

  test('a request asking to upgrade is answered and its connection closed, so nothing pipelined behind it waits unanswered', async () => {
    const c = await connect(proxy.url);
    c.send('GET /v2/keys/upgrade-missing HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until(() => c.closed, 'the close after the upgrade request was answered', 10_000);
    const [first] = parseResponses(c.text);
    assert.equal(first!.status, 404);
    assert.match(c.text, /\r\nConnection: close\r\n/);
  });

  test('Expect: 100-continue is answered 100 only when the body is wanted: past the size bound, or read-only, the refusal comes at once, then the close', async () => {
    const expectPut = (length: number): string => `PUT /v2/keys/expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: ${FORM}\r\nContent-Length: ${length}\r\n\r\n`;
    const readonly = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl, '--proxy', 'readonly'] });
    try {
      for (const [url, length, status] of [[proxy.url, 5_000_000, 400], [readonly.url, 7, 501]] as const) {
        const c = await connect(url);
        c.send(expectPut(length)); // and no body: the client waits for the 100
        await c.until(() => c.closed, `the close after the ${status}`, 10_000);
        assert.match(c.text, new RegExp(`^HTTP/1\\.1 ${status} `), `no 100 Continue first: ${JSON.stringify(c.text.slice(0, 80))}`);
      }
      const c = await connect(proxy.url);
      c.send(expectPut(7));
      await c.until(() => c.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 'the 100 for a body that is wanted');
      c.send('value=1');
      const [answer] = await c.responses(1, 'the answer after the 100');
      assert.equal(answer!.status, 201);
      c.destroy();
    } finally {
      await readonly.stop();
    }
  });

  test('a request head with bare LF line ends gets 400 at once', async () => {
    for (const target of ['/version', '/v2/keys/lf']) {
      const c = await connect(proxy.url);
      c.send(`GET ${target} HTTP/1.1\nHost: 127.0.0.1\n\n`);
      await c.until(() => c.closed, `the close after a bare-LF GET ${target}`, 10_000);
      assert.match(c.text, /^HTTP\/1\.1 400 Bad Request\r\n/, target);
    }
  });

  test('HTTP/1.1 without Host (or with two) gets Go\'s 400 on every path; HTTP/1.0 needs none', async () => {
    const setup = await connect(proxy.url);
    setup.send(put('/v2/keys/host/k', 'before'));
    await setup.responses(1, 'the first PUT');
    setup.destroy();
    for (const request of ['GET /v2/keys/host/k HTTP/1.1\r\n\r\n', 'GET /metrics HTTP/1.1\r\n\r\n', `PUT /v2/keys/host/k HTTP/1.1\r\nContent-Type: ${FORM}\r\nContent-Length: 7\r\n\r\nvalue=x`]) {
      const c = await connect(proxy.url);
      c.send(request);
      await c.until(() => c.closed, `the close after ${JSON.stringify(request)}`);
      assert.equal(c.text, GO_MISSING_HOST, request);
    }
    // On a connection already handed to node:http, and behind a request still being answered.
    const c = await connect(proxy.url);
    c.send(put('/v2/keys/host/k', 'node', 'chunked') + `PUT /v2/keys/host/k HTTP/1.1\r\nContent-Type: ${FORM}\r\nContent-Length: 7\r\n\r\nvalue=y`);
    await c.until(() => c.closed, 'the close on the node:http connection');
    const [first] = parseResponses(c.text);
    assert.equal(first!.status, 200);
    assert.ok(c.text.endsWith(GO_MISSING_HOST), JSON.stringify(c.text));
    assert.equal(valueOf(await read('/v2/keys/host/k')), 'node', 'the refused PUT was not applied');
    // Behind a request the loop forwards.
    const l = await connect(proxy.url);
    l.send(get('/v2/keys/host/k') + 'GET /v2/keys/host/k HTTP/1.1\r\n\r\n');
    await l.until(() => l.closed, 'the close on the loop connection');
    assert.equal(parseResponses(l.text)[0]!.status, 200);
    assert.ok(l.text.endsWith(GO_MISSING_HOST), JSON.stringify(l.text));
    const twice = await connect(proxy.url);
    twice.send('GET /v2/keys/host/k HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    await twice.until(() => twice.closed, 'the close after two Host headers');
    assert.equal(twice.text, GO_MISSING_HOST.replaceAll('missing required Host header', 'too many Host headers'));
    const old = await connect(proxy.url);
    old.send('GET /v2/keys/host/k HTTP/1.0\r\n\r\n');
    const [answer] = await old.responses(1, 'the HTTP/1.0 answer');
    assert.equal(valueOf(answer!), 'node');
    assert.equal(proxy.exitCode, null);
  });
});

describe('proxy client connections are bounded', { skip: SKIP }, () => {
  let member: DeimosProcess;
  const proxies: ProxyProcess[] = [];
  const startProxy = async (options: Omit<Parameters<typeof ProxyProcess.start>[0], 'args'> & { args?: string[] }): Promise<ProxyProcess> => {
    const p = await ProxyProcess.start({ ...options, args: ['--endpoints', member.clientUrl, ...(options.args ?? [])] });
    proxies.push(p);
    return p;
  };

  before(async () => {
    member = await DeimosProcess.start({ name: 'edges2' });
  });
  after(async () => {
    for (const p of proxies) await p.stop();
    await member?.destroy();
  });

  for (const viaServer of [false, true]) {
    test(`--max-client-conns bounds connections with a 503, counted, and a freed slot is taken by the next client${viaServer ? ' (deimos --proxy on)' : ''}`, { timeout: 60_000 }, async () => {
      const proxy = await startProxy({ args: [...(viaServer ? ['--proxy', 'on'] : []), '--max-client-conns', '4'], viaServer });
      // Watches one at a time until one is refused (the readiness probe's connection may hold a slot).
      const parked: RawConnection[] = [];
      let refused: RawConnection | undefined;
      while (refused === undefined) {
        const w = await watchForever(proxy.url);
        if (w.closed) refused = w;
        else parked.push(w);
        assert.ok(parked.length <= 4, 'more than 4 connections were served');
      }
      assert.ok(parked.length >= 3, `only ${parked.length} watches parked under a limit of 4`);
      const [r] = parseResponses(refused.text);
      assert.equal(r?.status, 503);
      assert.equal(r?.headers['content-type'], 'application/json');
      assert.equal(r?.headers['retry-after'], '1');
      assert.match(r?.body ?? '', /"message":"too many open client connections \(limit 4\)/);
      parked[0]!.destroy();
      await waitFor(async () => (await freshGet(proxy.url, '/v2/keys/'))?.status === 200, { timeoutMs: 20_000, what: 'the freed slot to be served' });
      for (const w of parked) w.destroy();
      let metrics = '';
      await waitFor(async () => {
        metrics = (await freshGet(proxy.url, '/metrics'))?.body ?? '';
        return metrics !== '' && metric(metrics, 'deimos_proxy_client_connections') <= 2;
      }, { timeoutMs: 20_000, what: `the watches to be counted closed: ${metrics}` });
      assert.equal(metric(metrics, 'deimos_proxy_client_connections_limit'), 4);
      assert.ok(metric(metrics, 'deimos_proxy_client_connections_refused_total') >= 1);
      assert.equal(proxy.exitCode, null);
    });
  }

  test('the default bound is derived from the open-files limit', { timeout: 60_000 }, async () => {
    const proxy = await startProxy({ fdLimit: 256 });
    const metrics = (await freshGet(proxy.url, '/metrics'))!.body;
    // 256 descriptors: 128 kept for the proxy's own, and two for each client connection (its own
    // and, for a watch, the one to the member).
    assert.equal(metric(metrics, 'deimos_proxy_client_connections_limit'), 64);
  });

  test('with the bound above what descriptors allow, failed accepts are survived', { timeout: 120_000 }, async () => {
    const proxy = await startProxy({ fdLimit: 128, args: ['--max-client-conns', '5000'] });
    const all: RawConnection[] = [];
    for (let i = 0; i < 200; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, async () => {
        try {
          return await connect(proxy.url);
        } catch {
          return undefined; // refused by the kernel or reset
        }
      }));
      for (const c of batch) if (c) all.push(c);
    }
    // The proxy ran out of descriptors: connections past that were closed unanswered.
    await waitFor(() => all.some((c) => c.closed), { timeoutMs: 20_000, what: 'accepts to fail for want of descriptors' });
    assert.equal(proxy.exitCode, null, proxy.output);
    for (const c of all) c.destroy();
    await waitFor(async () => (await freshGet(proxy.url, '/v2/keys/'))?.status === 200, { timeoutMs: 20_000, what: 'new connections to be served' });
    assert.equal(proxy.exitCode, null, proxy.output);
  });
});
