/**
 * HTTP/1.1 edges of the client port on a real deimos process, over raw sockets, on both of its
 * paths (the client loop and node:http behind it): a client that half-closes after a request still
 * gets its answer; pipelined requests run in order, a read seeing the write sent before it; a body
 * trickled to a route that ignores it, a bare-LF head, a missing Host header and absurdly deep JSON
 * all get a prompt, bounded answer as etcd's Go server gives.
 *
 * e2e-lane: beside (one member at a time, mostly waiting on its timeouts; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { parseResponses, RawConnection, type RawResponse } from '../support/raw-connection.js';
import { FORM, formPut, GO_MISSING_HOST, rawGet, valueOf } from '../support/raw-requests.js';

const put = formPut;
const get = rawGet;

describe('client port HTTP edges, on the loop and through node:http', () => {
  let node: DeimosProcess;
  const open: RawConnection[] = [];
  const connect = async (): Promise<RawConnection> => {
    const c = await RawConnection.open(node.clientUrl);
    open.push(c);
    return c;
  };
  const read = async (path: string): Promise<RawResponse> => {
    const c = await connect();
    c.send(get(path));
    const [r] = await c.responses(1, `GET ${path}`);
    c.destroy();
    return r!;
  };

  before(async () => {
    node = await DeimosProcess.start();
  });
  after(async () => {
    for (const c of open) c.destroy();
    await node?.destroy();
  });

  test('a client that half-closes after a request node:http serves gets its answer, then the close', async () => {
    for (const form of ['chunked', 'expect', 'duplicate'] as const) {
      const c = await connect();
      c.send(put(`/v2/keys/half/${form}`, form, form));
      c.socket.end();
      const [answer] = await c.responses(1, `the answer to a ${form} PUT`);
      assert.equal(answer!.status, 201, form);
      await c.until(() => c.closed, `the close after the ${form} PUT`);
      assert.equal(valueOf(await read(`/v2/keys/half/${form}`)), form);
    }
  });

  test('a watch whose client half-closes ends and its connection closes, on either path', async () => {
    const watchers = async (): Promise<number> => JSON.parse((await read('/v2/stats/store')).body).watchers as number;
    // Plain: the client loop parks it. A Connection header naming another token goes to node:http.
    for (const extra of ['', 'Connection: keep-alive, X-Trace\r\n']) {
      const c = await connect();
      c.send(`GET /v2/keys/half-watch?wait=true&recursive=true HTTP/1.1\r\nHost: x\r\n${extra}\r\n`);
      await c.until(() => c.text.includes('\r\n\r\n'), 'the watch head');
      assert.equal(await watchers(), 1, `the watch is registered (${JSON.stringify(extra)})`);
      c.socket.end();
      await c.until(() => c.closed, 'the member to close the half-closed watch');
      // As etcd's Go server: the chunked body is finished (an empty answer) before the close.
      assert.ok(c.text.endsWith('\r\n\r\n0\r\n\r\n'), `a complete, empty body (${JSON.stringify(extra)}): ${JSON.stringify(c.text.slice(-40))}`);
      const deadline = Date.now() + 10_000;
      while ((await watchers()) !== 0) {
        assert.ok(Date.now() < deadline, 'the watcher to be removed');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  test('a half-closed connection moving from the loop to node:http gets every answer', async () => {
    const c = await connect();
    c.send(put('/v2/keys/half/first', 'loop') + put('/v2/keys/half/second', 'node', 'chunked') + get('/v2/keys/half/second'));
    c.socket.end();
    const answers = await c.responses(3, 'the three answers');
    assert.deepEqual(answers.map((a) => a.status), [201, 201, 200]);
    assert.equal(valueOf(answers[2]!), 'node');
    await c.until(() => c.closed, 'the close');
  });

  test('a GET pipelined behind a chunked PUT of the same key sees the new value', async () => {
    for (let i = 0; i < 10; i++) {
      const c = await connect();
      c.send(put('/v2/keys/order/k', `v${i}`, 'chunked') + get('/v2/keys/order/k') + get('/v2/keys/order/k?serializable=true'));
      const answers = await c.responses(3, `round ${i}`);
      c.destroy();
      assert.deepEqual(answers.map((a) => a.status), [i === 0 ? 201 : 200, 200, 200], `round ${i}`);
      assert.equal(valueOf(answers[1]!), `v${i}`, `round ${i}: the linearizable GET`);
      assert.equal(valueOf(answers[2]!), `v${i}`, `round ${i}: the serializable GET`);
    }
  });

  test('pipelined writes on a node:http connection are applied in order', async () => {
    const c = await connect();
    let text = '';
    for (let i = 0; i < 8; i++) text += put('/v2/keys/order/seq', `s${i}`, i % 2 === 0 ? 'chunked' : 'duplicate') + get('/v2/keys/order/seq');
    c.send(text);
    const answers = await c.responses(16, 'sixteen answers');
    c.destroy();
    for (let i = 0; i < 8; i++) assert.equal(valueOf(answers[2 * i + 1]!), `s${i}`, `the GET after write ${i}`);
  });

  test('a chunked body trickled to a route that ignores bodies holds the connection only for a bounded time', async () => {
    const trickle = async (path: string): Promise<string> => {
      const c = await connect();
      c.send(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`);
      // One byte of body every 200 ms: never idle, never finished.
      const timer = setInterval(() => {
        if (!c.closed) c.send('1\r\nx\r\n');
      }, 200);
      try {
        await c.until(() => c.closed, `the close of the trickling ${path}`, 60_000);
      } finally {
        clearInterval(timer);
      }
      return c.text;
    };
    const [version, stats] = await Promise.all([trickle('/version'), trickle('/v2/stats/self')]);
    assert.match(version, /^HTTP\/1\.1 200 OK\r\n/, 'the route answered before the body ended');
    assert.match(stats, /^HTTP\/1\.1 200 OK\r\n/);
  });

  test('part of a request and then silence gets a 408 and a close after the arrival bound, not the keep-alive time', async () => {
    const partial = async (text: string): Promise<string> => {
      const c = await connect();
      c.send(text);
      await c.until(() => c.closed, `the close after ${JSON.stringify(text.slice(0, 30))}`, 60_000);
      return c.text;
    };
    const answers = await Promise.all([
      partial('GET /v2/keys/a HT'),
      partial('GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n'),
      partial(`PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 10\r\n\r\nval`),
    ]);
    for (const text of answers) assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  test('a request head with bare LF line ends gets 400 at once', async () => {
    for (const target of ['/version', '/v2/keys/lf']) {
      const c = await connect();
      c.send(`GET ${target} HTTP/1.1\nHost: 127.0.0.1\n\n`);
      await c.until(() => c.closed, `the close after a bare-LF GET ${target}`, 10_000);
      assert.match(c.text, /^HTTP\/1\.1 400 Bad Request\r\n/, target);
    }
  });

  test('a body in a transfer coding other than chunked alone gets Go\'s 501, is not applied, and the connection closes', async () => {
    for (const coding of ['gzip, chunked', 'gzip', 'chunked, gzip', 'identity']) {
      const c = await connect();
      c.send(`PUT /v2/keys/te HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nTransfer-Encoding: ${coding}\r\n\r\n7\r\nvalue=1\r\n0\r\n\r\n`);
      await c.until(() => c.closed, `the close after Transfer-Encoding: ${coding}`, 10_000);
      const [answer] = parseResponses(c.text);
      assert.equal(answer?.status, 501, `${coding}: ${JSON.stringify(c.text)}`);
      assert.equal(answer!.body, 'Unsupported transfer encoding', coding);
    }
    assert.equal((await read('/v2/keys/te')).status, 404, 'nothing was written');
  });

  test('HTTP/1.1 without Host (or with two) gets Go\'s 400 on every path; HTTP/1.0 needs none', async () => {
    const setup = await connect();
    setup.send(put('/v2/keys/host/k', 'before'));
    await setup.responses(1, 'the first PUT');
    setup.destroy();
    for (const request of ['GET /v2/keys/host/k HTTP/1.1\r\n\r\n', 'GET /version HTTP/1.1\r\n\r\n', `PUT /v2/keys/host/k HTTP/1.1\r\nContent-Type: ${FORM}\r\nContent-Length: 7\r\n\r\nvalue=x`]) {
      const c = await connect();
      c.send(request);
      await c.until(() => c.closed, `the close after ${JSON.stringify(request)}`);
      assert.equal(c.text, GO_MISSING_HOST, request);
    }
    // On a connection already handed to node:http, and behind a request still being answered.
    const c = await connect();
    c.send(put('/v2/keys/host/k', 'node', 'chunked') + `PUT /v2/keys/host/k HTTP/1.1\r\nContent-Type: ${FORM}\r\nContent-Length: 7\r\n\r\nvalue=y`);
    await c.until(() => c.closed, 'the close on the node:http connection');
    const [first] = parseResponses(c.text);
    assert.equal(first!.status, 200);
    assert.ok(c.text.endsWith(GO_MISSING_HOST), JSON.stringify(c.text));
    assert.equal(valueOf(await read('/v2/keys/host/k')), 'node', 'the refused PUT was not applied');
    const twice = await connect();
    twice.send('GET /v2/keys/host/k HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    await twice.until(() => twice.closed, 'the close after two Host headers');
    assert.equal(twice.text, GO_MISSING_HOST.replaceAll('missing required Host header', 'too many Host headers'));
    const old = await connect();
    old.send('GET /v2/keys/host/k HTTP/1.0\r\n\r\n');
    const [answer] = await old.responses(1, 'the HTTP/1.0 answer');
    assert.equal(valueOf(answer!), 'node');
  });

  test("a malformed escape in the path gets Go's bare 400 and a close on every route; in the query it is the keys API's form error", async () => {
    for (const target of ['/v2/keys/esc/%zz', '/v2/keys/esc%2', '/version%', '/v2/members/%zz']) {
      const c = await connect();
      c.send(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await c.until(() => c.closed, `the close after ${target}`);
      assert.equal(c.text, 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request', target);
    }
    const c = await connect();
    c.send('GET /v2/keys/esc?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n');
    const [answer] = await c.responses(1, 'the form error');
    assert.equal(answer!.status, 400);
    assert.equal(JSON.parse(answer!.body).errorCode, 210);
    c.destroy();
  });

  test('an absolute-form target (what clients send to a proxy) is served by its path, as Go serves it', async () => {
    const setup = await connect();
    setup.send(put('/v2/keys/absolute/k', 'abs'));
    await setup.responses(1, 'the PUT');
    setup.destroy();
    const base = node.clientUrl;
    const c = await connect();
    c.send([`${base}/v2/keys/absolute/k`, 'http://other.example/version', `${base}/v2/keys/absolute/k?quorum=true`, 'HTTP://ELSEWHERE:1/health']
      .map((target) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
    const [key, version, quorum, health] = await c.responses(4, 'four absolute-form answers');
    assert.equal(valueOf(key!), 'abs');
    assert.equal(version!.status, 200, version!.body);
    assert.equal(JSON.parse(version!.body).etcdserver !== undefined, true);
    assert.equal(valueOf(quorum!), 'abs');
    assert.equal(health!.status, 200, health!.body);
    const w = await connect();
    w.send(`PUT ${base}/v2/keys/absolute/w HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${FORM}\r\nContent-Length: 7\r\n\r\nvalue=w`);
    const [written] = await w.responses(1, 'the absolute-form PUT');
    assert.equal(written!.status, 201, written!.body);
    assert.equal(valueOf(await read('/v2/keys/absolute/w')), 'w');
  });

  test('raw UTF-8 bytes in a target name the key their percent-encoding names, on every path (Go takes them; node:http alone refuses)', async () => {
    const answer = async (request: string): Promise<RawResponse> => {
      const c = await connect();
      c.send(request);
      const [r] = await c.responses(1, request.slice(0, 40));
      return r!;
    };
    // On the loop; chunked (node:http from the start); OPTIONS (the loop declines, node:http answers).
    const plain = await answer(put('/v2/keys/utf8/café', 'raw'));
    const chunked = await answer(put('/v2/keys/utf8/naïve', 'chunky', 'chunked'));
    const head = await answer('OPTIONS /v2/keys/utf8/café HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual([plain.status, chunked.status, head.status], [201, 201, 200]);
    assert.equal(JSON.parse(Buffer.from(plain.body, 'latin1').toString()).node.key, '/utf8/café');
    assert.equal(valueOf(await read('/v2/keys/utf8/caf%C3%A9')), 'raw');
    assert.equal(valueOf(await read('/v2/keys/utf8/na%C3%AFve')), 'chunky');
  });

  test('a request that closes the connection, with bytes pipelined after it, is served and then the connection closes (as Go)', async () => {
    // Behind a chunked PUT (node:http's path): `Connection: close`, and an HTTP/1.0 request.
    const closers = [
      `GET /v2/keys/closer/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `PUT /v2/keys/closer/k HTTP/1.0\r\nContent-Type: ${FORM}\r\nContent-Length: 8\r\n\r\nvalue=10`,
    ];
    for (const [i, closer] of closers.entries()) {
      const c = await connect();
      c.send(put('/v2/keys/closer/k', `v${i}`, 'chunked') + closer + get('/v2/keys/closer/never'));
      await c.until(() => c.closed, `the close after the closing request ${i}`, 10_000);
      const answers = parseResponses(c.text);
      assert.deepEqual(answers.map((a) => a.status), [i === 0 ? 201 : 200, 200], `two answers, no 400: ${JSON.stringify(c.text.slice(-300))}`);
      if (i === 0) assert.equal(valueOf(answers[1]!), 'v0');
    }
    assert.equal(valueOf(await read('/v2/keys/closer/k')), '10', 'the HTTP/1.0 PUT was applied');
  });

  test('a request asking to upgrade is answered and its connection closed, so nothing pipelined behind it waits unanswered', async () => {
    const c = await connect();
    c.send('GET /v2/keys/upgrade-missing HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until(() => c.closed, 'the close after the upgrade request was answered', 10_000);
    const [first] = parseResponses(c.text);
    assert.equal(first!.status, 404);
    assert.match(c.text, /\r\nConnection: close\r\n/);
  });

  test('JSON nested 65,000 deep on /v2/members is a 400 with Go\'s decoding error', async () => {
    for (const body of ['['.repeat(65_000), `{"peerURLs":${'['.repeat(65_000)}`]) {
      const c = await connect();
      c.send(`POST /v2/members HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      const [answer] = await c.responses(1, 'the members answer');
      c.destroy();
      assert.equal(answer!.status, 400);
      assert.deepEqual(JSON.parse(answer!.body), { message: "invalid character '[' exceeded max depth" });
    }
  });
});
