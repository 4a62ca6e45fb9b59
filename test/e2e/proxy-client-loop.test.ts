/**
 * The proxy's own client loop (plain requests forwarded as bytes, member connections pipelined under
 * load), driven over raw TCP against a real deimos-proxy and real members: pipelined requests answered
 * in order, requests split across writes, the hand-over of a connection to node:http at a request
 * boundary, many clients whose answers must not be mixed up (some going away mid-request), a client
 * that does not read its answers, and reads that keep working while a member is killed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { RawConnection, type RawResponse } from '../support/raw-connection.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own processes' : false;

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
const put = (path: string, value: string): string => {
  const body = `value=${encodeURIComponent(value)}`;
  return `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
};
const json = (r: RawResponse): any => JSON.parse(r.body);

describe('the proxy client loop in front of one member', { skip: SKIP }, () => {
  let member: DeimosProcess;
  let proxy: ProxyProcess;
  const prefix = uniqueKey('loop');
  const open: RawConnection[] = [];
  const connect = async (): Promise<RawConnection> => {
    const c = await RawConnection.open(proxy.url);
    open.push(c);
    return c;
  };

  before(async () => {
    member = await DeimosProcess.start({ name: 'loop1' });
    proxy = await ProxyProcess.start({ args: ['--endpoints', member.clientUrl] });
  });

  after(async () => {
    for (const c of open) c.destroy();
    await proxy?.stop();
    await member?.destroy();
  });

  test('answers pipelined writes and reads on one connection in order', async () => {
    const c = await connect();
    let text = '';
    for (let i = 0; i < 10; i++) text += put(`/v2/keys${prefix}/p${i}`, `v${i}`);
    for (let i = 9; i >= 0; i--) text += get(`/v2/keys${prefix}/p${i}`);
    text += `DELETE /v2/keys${prefix}/p0 HTTP/1.1\r\nHost: x\r\n\r\n${get(`/v2/keys${prefix}/p0`)}`;
    c.send(text); // one write: the proxy sees every request at once
    const res = await c.responses(22, 'pipelined answers');
    for (let i = 0; i < 10; i++) {
      assert.equal(res[i]!.status, 201, res[i]!.body);
      assert.equal(json(res[i]!).node.key, `${prefix}/p${i}`);
    }
    for (let i = 0; i < 10; i++) {
      const r = res[10 + i]!;
      assert.equal(r.status, 200, r.body);
      assert.deepEqual([json(r).node.key, json(r).node.value], [`${prefix}/p${9 - i}`, `v${9 - i}`]);
      assert.equal(r.headers['x-etcd-index'] !== undefined, true, 'cluster headers pass through');
      assert.equal(r.headers['connection'], 'keep-alive');
      // Idle connections stay past the minute or more that balancers and pools in front keep theirs.
      assert.equal(r.headers['keep-alive'], 'timeout=620');
    }
    assert.equal(json(res[20]!).action, 'delete');
    assert.equal(res[21]!.status, 404);
    assert.equal(json(res[21]!).errorCode, 100);
  });

  test('reads requests split across writes at every byte', async () => {
    const c = await connect();
    const text = put(`/v2/keys${prefix}/split`, 'split value') + get(`/v2/keys${prefix}/split`);
    for (const ch of text) await c.write(ch);
    const [w, r] = await c.responses(2, 'answers to byte-by-byte requests');
    assert.equal(w!.status, 201, w!.body);
    assert.equal(json(r!).node.value, 'split value');
  });

  test('hands a connection to node:http at a request boundary and keeps serving it', async () => {
    const c = await connect();
    const chunkedBody = 'value=chunked';
    c.send(get(`/v2/keys${prefix}/p5`)
      + `PUT /v2/keys${prefix}/chunked HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`
      + `${chunkedBody.length.toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`);
    await c.responses(2, 'a plain GET and a chunked PUT (node:http)');
    // node:http works on pipelined requests concurrently, so the read follows the write's answer.
    c.send(get(`/v2/keys${prefix}/chunked`));
    const res = await c.responses(3, 'a GET after it');
    assert.equal(json(res[0]!).node.value, 'v5');
    assert.equal(res[1]!.status, 201, res[1]!.body);
    assert.equal(json(res[2]!).node.value, 'chunked');
    // A watch (node:http path: no response timeout) on the same connection, then a plain GET again.
    const index = Number(res[1]!.headers['x-etcd-index']);
    c.send(get(`/v2/keys${prefix}/watched?wait=true&waitIndex=${index + 1}`));
    const write = await http('PUT', `${proxy.url}/v2/keys${prefix}/watched`, { form: { value: 'event' } });
    assert.equal(write.status, 201);
    c.send(get(`/v2/keys${prefix}/p6`));
    const more = await c.responses(5, 'the watch event and a GET after it');
    assert.equal(json(more[3]!).node.value, 'event');
    assert.equal(json(more[4]!).node.value, 'v6');
  });

  test('keeps the answers of 64 concurrent clients apart while some of them go away mid-request', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `${prefix}/c${i}`);
    for (const k of keys) assert.equal((await http('PUT', `${proxy.url}/v2/keys${k}`, { form: { value: `value of ${k}` } })).status, 201);
    const clients = await Promise.all(Array.from({ length: 64 }, () => connect()));
    const rounds = 5;
    await Promise.all(clients.map(async (c, n) => {
      for (let round = 0; round < rounds; round++) {
        const asked = Array.from({ length: 8 }, (_, i) => keys[(n * 7 + round * 11 + i * 13) % keys.length]!);
        const before = c.text.length;
        c.send(asked.map((k) => get(`/v2/keys${k}`)).join(''));
        if (n % 8 === 7 && round === 2) {
          c.destroy(); // gone with answers due: the others' answers on shared member connections go on
          return;
        }
        await c.until((t) => parseCount(t.slice(before)) >= asked.length, `round ${round} of client ${n}`);
        const got = (await c.responses(parseCount(c.text), 'all so far')).slice(-asked.length);
        assert.deepEqual(got.map((r) => json(r).node.value), asked.map((k) => `value of ${k}`), `client ${n} round ${round}`);
      }
    }));
    const metrics = await proxy.metrics();
    assert.match(metrics, /deimos_proxy_upstream_failures_total\{[^}]*\} 0/, 'no attempt failed');
  });

  test('stops reading from a client that does not read its answers, serves others meanwhile, then delivers every answer', async () => {
    const big = 'x'.repeat(100_000);
    assert.equal((await http('PUT', `${proxy.url}/v2/keys${prefix}/big`, { form: { value: big } })).status, 201);
    const slow = await connect();
    slow.socket.pause();
    const n = 80; // 8 MB of answers: far past the socket buffers
    slow.send(get(`/v2/keys${prefix}/big`).repeat(n));
    // Another client is served while the slow one's answers are stuck.
    for (let i = 0; i < 5; i++) assert.equal((await http('GET', `${proxy.url}/v2/keys${prefix}/p3`)).status, 200);
    slow.socket.resume();
    const res = await slow.responses(n, 'every big answer', 60_000);
    const bad = res.findIndex((r) => r.status !== 200 || json(r).node.value !== big);
    assert.equal(bad, -1, `answer ${bad}: ${res[bad]?.status} ${res[bad]?.body.slice(0, 300)}`);
  });
});

/** Complete responses at the start of `text`, counted. */
function parseCount(text: string): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return count;
    const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(at, headEnd));
    const end = headEnd + 4 + Number(m?.[1] ?? 0);
    if (text.length < end) return count;
    count++;
    at = end;
  }
}

describe('the proxy client loop in front of a 3-member cluster', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let proxy: ProxyProcess;
  const prefix = uniqueKey('loopkill');

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    proxy = await ProxyProcess.start({ args: ['--endpoints', cluster.members[0]!.clientUrl, '--refresh-interval', '1s', '--failure-wait', '3s'] });
    await waitFor(async () => (await proxy.upstreams()).length === 3, { timeoutMs: 10_000, what: 'the proxy to list all 3 members' });
  });

  after(async () => {
    await proxy?.stop();
    await cluster?.destroy();
  });

  test('pipelined reads from 32 clients all succeed while a member is killed with -9', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await http('PUT', `${proxy.url}/v2/keys${prefix}/k${i}`, { form: { value: `v${i}` } })).status, 201);
    const leader = await cluster.leader();
    const victim = cluster.followers(leader)[0]!;
    const clients = await Promise.all(Array.from({ length: 32 }, () => RawConnection.open(proxy.url)));
    // The victim must be in use when it dies (the proxy spreads reads by latency and load).
    const warm = await Promise.all(Array.from({ length: 16 }, () => RawConnection.open(proxy.url)));
    await waitFor(async () => {
      await Promise.all(warm.map(async (c) => {
        const before = parseCount(c.text);
        c.send(get(`/v2/keys${prefix}/k1`));
        await c.responses(before + 1, 'a warm-up read');
      }));
      return (await proxy.requestsTo(victim.clientUrl)) > 10;
    }, { timeoutMs: 10_000, what: 'reads reaching the member to be killed' });
    for (const c of warm) c.destroy();
    let killed = false;
    let answeredAfterKill = 0;
    try {
      await Promise.all(clients.map(async (c, n) => {
        for (let round = 0, after = 0; after < 20; round++) {
          if (round > 5000) throw new Error('the member was never killed');
          const before = parseCount(c.text);
          c.send(Array.from({ length: 4 }, (_, i) => get(`/v2/keys${prefix}/k${(n + round + i) % 10}`)).join(''));
          const res = (await c.responses(before + 4, `round ${round} of client ${n}`)).slice(before);
          for (const r of res) assert.equal(r.status, 200, r.body);
          if (killed) {
            after++;
            answeredAfterKill += 4;
          }
          if (n === 0 && round === 20) {
            await cluster.kill(victim);
            killed = true;
          }
        }
      }));
    } finally {
      for (const c of clients) c.destroy();
    }
    assert.equal(answeredAfterKill, 32 * 20 * 4, 'every read after the kill answered 200');
    const failures = new RegExp(`deimos_proxy_upstream_failures_total\\{upstream="${victim.clientUrl}"\\} (\\d+)`).exec(await proxy.metrics());
    assert.ok(Number(failures?.[1]) >= 1, 'attempts on the killed member failed and were retried on the others');
    await cluster.restart(victim);
  });
});
