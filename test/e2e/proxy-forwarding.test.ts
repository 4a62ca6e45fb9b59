/**
 * The real deimos-proxy process against scripted members (plain node:http servers that answer
 * /v2/members with themselves): header handling, which failed attempts are retried on another member,
 * the 503 when no member answers, loops between proxies, a proxy pointed at itself, and body limits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeMember } from '../support/fake-member.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { Watch } from '../support/watch.js';
import { waitFor } from '../support/wait-for.js';

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

const SKIP = IS_EXTERNAL ? 'needs its own processes' : false;

describe('deimos-proxy forwarding rules', { skip: SKIP }, () => {
  let a: FakeMember;
  let b: FakeMember;
  let proxy: ProxyProcess;

  before(async () => {
    a = await FakeMember.start();
    b = await FakeMember.start();
    a.memberUrls = b.memberUrls = [a.url, b.url];
    proxy = await ProxyProcess.start({ args: ['--endpoints', a.url, '--refresh-interval', '500ms', '--failure-wait', '60s', '--max-request-bytes', '2048'] });
  });

  after(async () => {
    await proxy?.stop();
    await a?.stop();
    await b?.stop();
  });

  test('adds X-Forwarded-For and its hop header, strips hop-by-hop headers both ways, keeps the index headers', async () => {
    const res = await http('PUT', `${proxy.url}/v2/keys/h`, {
      form: { value: 'v' },
      headers: { Connection: 'keep-alive, X-Drop-Me', 'X-Drop-Me': '1', 'Keep-Alive': 'timeout=9', 'X-Forwarded-For': '10.1.2.3', 'X-Keep-Me': 'yes' },
    });
    assert.equal(res.status, 200, res.body);
    const seen = [...a.seen, ...b.seen].at(-1)!;
    assert.equal(seen.body, 'value=v', 'the buffered body is forwarded');
    assert.equal(seen.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1');
    assert.match(String(seen.headers['x-deimos-proxy']), /^[0-9a-f]{12}$/);
    assert.equal(seen.headers['x-drop-me'], undefined, 'a header named in Connection is hop-by-hop');
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.equal(seen.headers['x-keep-me'], 'yes');
    assert.equal(res.headers['x-etcd-index'], '42');
    assert.equal(res.headers['x-raft-term'], '3');
    assert.equal(res.headers['x-private'], undefined, "the member's Connection-named header is dropped");
  });

  test('refuses a request that already went through this proxy (loop) with 508', async () => {
    const seen = [...a.seen, ...b.seen].at(-1)!;
    const res = await http('GET', `${proxy.url}/v2/keys/h`, { headers: { 'X-Deimos-Proxy': String(seen.headers['x-deimos-proxy']) } });
    assert.equal(res.status, 508);
    assert.equal(res.json.errorCode, 300);
    assert.match(res.json.cause, /loop/);
  });

  test('retries a GET on another member when the first resets the connection', async () => {
    a.behaviour = 'reset';
    try {
      for (let i = 0; i < 4; i++) {
        const res = await http('GET', `${proxy.url}/v2/keys/r${i}`);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.json.from, b.url);
      }
    } finally {
      a.behaviour = 'answer';
    }
  });

  test('closes a watch to the client when the member goes away mid-stream', async () => {
    a.behaviour = b.behaviour = 'stream-then-die';
    try {
      const watch = await Watch.open(`${proxy.url}/v2/keys/w?wait=true&stream=true`);
      assert.equal((await watch.next()).node.value, '1');
      await withTimeout(watch.ended, 5_000, 'the client side of the watch to end');
    } finally {
      a.behaviour = b.behaviour = 'answer';
    }
  });

  test('asks another member a watch whose member sends no head within --response-timeout (members send it at once)', async () => {
    const silent = await FakeMember.start();
    const good = await FakeMember.start();
    silent.behaviour = 'silent';
    silent.memberUrls = good.memberUrls = [silent.url, good.url];
    const p = await ProxyProcess.start({ args: ['--endpoints', silent.url, '--response-timeout', '1s', '--failure-wait', '60s'] });
    try {
      await waitFor(() => silent.membersAsked > 0, { timeoutMs: 10_000, what: 'the proxy to learn both members' });
      // Ties between members not yet measured take turns: of two watches at once, one goes to each.
      const answers = await withTimeout(Promise.all([0, 1].map((i) => http('GET', `${p.url}/v2/keys/w${i}?wait=true`, { timeoutMs: 20_000 }))), 15_000, 'both watches to be answered');
      for (const res of answers) {
        assert.equal(res.status, 200, res.body);
        assert.equal(res.json.from, good.url);
      }
      assert.ok(silent.seen.some((r) => r.url.includes('wait=true')), 'one watch went to the silent member first');
    } finally {
      await p.stop();
      await silent.stop();
      await good.stop();
    }
  });

  test("answers a keys request's body over --max-request-bytes as a member does (400, 210 http: POST too large), and others with 413", async () => {
    const res = await http('PUT', `${proxy.url}/v2/keys/big`, { form: { value: 'x'.repeat(4096) } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, { errorCode: 210, message: 'Invalid POST form', cause: 'http: POST too large', index: 0 });
    const members = await http('POST', `${proxy.url}/v2/members`, { body: JSON.stringify({ peerURLs: ['x'.repeat(4096)] }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(members.status, 413);
    assert.match(members.json.message, /2048/);
  });
});

describe('deimos-proxy failure answers', { skip: SKIP }, () => {
  test('does not repeat a write that reached a member which then reset the connection (502)', async () => {
    const a = await FakeMember.start();
    const b = await FakeMember.start();
    a.memberUrls = b.memberUrls = [a.url, b.url];
    a.behaviour = b.behaviour = 'reset';
    const proxy = await ProxyProcess.start({ args: ['--endpoints', `${a.url},${b.url}`] });
    try {
      const res = await http('PUT', `${proxy.url}/v2/keys/w`, { form: { value: 'v' } });
      assert.equal(res.status, 502, res.body);
      assert.match(res.json.cause, /may or may not have been applied/);
      assert.equal(a.seen.length + b.seen.length, 1, 'sent exactly once');
    } finally {
      await proxy.stop();
      await a.stop();
      await b.stop();
    }
  });

  test('repeats a write on another member when the first refused the connection', async () => {
    const live = await FakeMember.start();
    const [deadPort] = await freePorts(1);
    const dead = `http://127.0.0.1:${deadPort}`;
    live.memberUrls = [dead, live.url];
    const proxy = await ProxyProcess.start({ args: ['--endpoints', `${dead},${live.url}`, '--refresh-interval', '1h'] });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await http('POST', `${proxy.url}/v2/keys/q`, { form: { value: `v${i}` } });
        assert.equal(res.status, 200, res.body);
      }
      assert.equal(live.seen.length, 3, 'every write arrived once');
      assert.match(await proxy.metrics(), new RegExp(`deimos_proxy_upstream_up\\{upstream="${dead}"\\} 0`));
    } finally {
      await proxy.stop();
      await live.stop();
    }
  });

  test('answers 503 with an etcd-style body when no member answers', async () => {
    const [p1, p2] = await freePorts(2);
    const proxy = await ProxyProcess.start({ args: ['--endpoints', `http://127.0.0.1:${p1},http://127.0.0.1:${p2}`] });
    try {
      for (const method of ['GET', 'PUT']) {
        const res = await http(method, `${proxy.url}/v2/keys/x`, method === 'PUT' ? { form: { value: 'v' } } : {});
        assert.equal(res.status, 503, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        assert.equal(res.json.errorCode, 300);
        assert.match(res.json.cause, /^deimos-proxy: no cluster member/);
      }
    } finally {
      await proxy.stop();
    }
  });

  test('refuses to start when every endpoint is its own listen address', async () => {
    const [port] = await freePorts(1);
    const run = await ProxyProcess.runOnce(['--listen-client-urls', `http://127.0.0.1:${port}`, '--endpoints', `http://localhost:${port}`]);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /own listen address/);
  });

  test('ignores its own address among the endpoints and serves through the others', async () => {
    const live = await FakeMember.start();
    const [port] = await freePorts(1);
    live.memberUrls = [live.url, `http://localhost:${port}`];
    const proxy = await ProxyProcess.start({ port, args: ['--endpoints', `http://127.0.0.1:${port},${live.url}`, '--refresh-interval', '300ms'] });
    try {
      assert.match(proxy.output, /ignoring --endpoints entry: it is this proxy/);
      for (let i = 0; i < 5; i++) assert.equal((await http('GET', `${proxy.url}/v2/keys/s${i}`)).status, 200);
      assert.deepEqual(await proxy.upstreams(), [live.url], 'a member list naming the proxy is filtered too');
    } finally {
      await proxy.stop();
      await live.stop();
    }
  });

  test('two proxies pointed at each other answer 508 instead of looping', async () => {
    const [pa, pb] = await freePorts(2);
    const first = await ProxyProcess.start({ port: pa, args: ['--endpoints', `http://127.0.0.1:${pb}`] });
    const second = await ProxyProcess.start({ port: pb, args: ['--endpoints', `http://127.0.0.1:${pa}`] });
    try {
      const res = await http('GET', `${first.url}/v2/keys/loop`);
      assert.equal(res.status, 508, res.body);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  test('reads its flags from DEIMOS_PROXY_* variables and validates them', async () => {
    const live = await FakeMember.start();
    const proxy = await ProxyProcess.start({ args: [], env: { DEIMOS_PROXY_ENDPOINTS: live.url, DEIMOS_PROXY_PROXY: 'readonly' } });
    try {
      assert.equal((await http('PUT', `${proxy.url}/v2/keys/e`, { form: { value: 'v' } })).status, 501);
      assert.equal((await http('GET', `${proxy.url}/v2/keys/e`)).status, 200);
    } finally {
      await proxy.stop();
      await live.stop();
    }
    const bad = await ProxyProcess.runOnce(['--endpoints', 'http://127.0.0.1:1', '--proxy', 'sometimes']);
    assert.equal(bad.code, 2);
    assert.match(bad.output, /--proxy must be one of on, readonly/);
    const none = await ProxyProcess.runOnce([]);
    assert.equal(none.code, 2);
    assert.match(none.output, /--endpoints/);
  });
});
