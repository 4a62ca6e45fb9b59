/**
 * Answers that take long (long polls spelled `wait=1`, `t`, `True`, ... as Go's ParseBool reads
 * them) or that their clients never read (large recursive reads to paused sockets) must not hold up
 * other clients' reads through a real deimos-proxy in front of one real member: those reads are
 * answered, and the member is never counted as failed. Run against a normal and a read-only proxy.
 * The proxies' response timeout is short (3 s) so that a read queued behind such an answer would
 * fail within the tests' generous deadlines instead of passing late.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { parseResponses, RawConnection } from '../support/raw-connection.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own processes' : false;

/** Long-poll spellings the member takes as `wait=true`; the first eight are not the literal `wait=true`. */
const WATCH_QUERIES = ['wait=1', 'wait=t', 'wait=T', 'wait=True', 'wait=TRUE', 'w%61it=1', 'wait=T&wait=false', 'recursive=false&wait=1', 'wait=%74rue', 'wait=1&stream=false'];
/** A value of 100 kB; the slow readers' directory holds VALUES of them (8 MB: more than socket buffers take). */
const BIG = 'x'.repeat(100_000);
const VALUES = 80;
const SLOW_READERS = 12;

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe('slow or long answers through the proxy', { skip: SKIP }, () => {
  let member: DeimosProcess;
  const proxies: Array<{ label: string; proxy: ProxyProcess }> = [];
  const prefix = uniqueKey('slowans');
  const open: RawConnection[] = [];
  const connect = async (url: string): Promise<RawConnection> => {
    const c = await RawConnection.open(url);
    open.push(c);
    return c;
  };

  before(async () => {
    member = await DeimosProcess.start({ name: 'slow1' });
    assert.equal((await http('PUT', `${member.clientUrl}/v2/keys${prefix}/small`, { form: { value: 'v' } })).status, 201);
    // One proxy per test, so that no test's failure is another's.
    for (const [label, mode] of [['on', 'on'], ['readonly', 'readonly'], ['slow', 'on']]) {
      const proxy = await ProxyProcess.start({ args: ['--proxy', mode!, '--endpoints', member.clientUrl, '--response-timeout', '3s', '--failure-wait', '60s'] });
      proxies.push({ label: label!, proxy });
    }
  });

  after(async () => {
    for (const c of open) c.destroy();
    for (const { proxy } of proxies) await proxy.stop();
    await member?.destroy();
  });

  /** The member was never counted as failed by `proxy`. */
  async function assertMemberNeverFailed(proxy: ProxyProcess, label: string): Promise<void> {
    const m = await proxy.metrics();
    const failures = /deimos_proxy_upstream_failures_total\{upstream="[^"]+"\} (\d+)/.exec(m);
    assert.equal(Number(failures?.[1] ?? 0), 0, `${label}: upstream failures in\n${m}`);
    assert.match(m, /deimos_proxy_upstream_up\{upstream="[^"]+"\} 1/, label);
  }

  for (const mode of ['on', 'readonly']) {
    test(`${mode}: long polls spelled wait=1, t, True, ... never hold up other clients' reads`, async () => {
      const { proxy } = proxies.find((p) => p.label === mode)!;
      const key = `${prefix}/watched-${mode}`;
      const sentBefore = await proxy.requestsTo(member.clientUrl);
      const polls: RawConnection[] = [];
      for (const q of WATCH_QUERIES) {
        const c = await connect(proxy.url);
        c.send(get(`/v2/keys${key}?${q}`));
        polls.push(c);
      }
      await waitFor(async () => (await proxy.requestsTo(member.clientUrl)) >= sentBefore + WATCH_QUERIES.length, { timeoutMs: 10_000, what: 'the long polls to reach the member' });
      // Plain reads from other clients, one after another and then many at once, are answered.
      for (let i = 0; i < 10; i++) {
        const r = await http('GET', `${proxy.url}/v2/keys${prefix}/small`, { timeoutMs: 30_000 });
        assert.equal(r.status, 200, `${mode} read ${i}: ${r.body}`);
      }
      const many = await Promise.all(Array.from({ length: 40 }, () => http('GET', `${proxy.url}/v2/keys${prefix}/small?quorum=false`, { timeoutMs: 30_000 })));
      assert.deepEqual(many.map((r) => r.status), many.map(() => 200));
      // They really are long polls (the member sends their heads at once): still unanswered, and each
      // is answered by the next change of the key.
      assert.deepEqual(polls.map((c) => parseResponses(c.text).length), polls.map(() => 0), 'no long poll answered before the key changed');
      assert.equal((await http('PUT', `${member.clientUrl}/v2/keys${key}`, { form: { value: 'changed' } })).status, 201);
      for (const [i, c] of polls.entries()) {
        const [r] = await c.responses(1, `the long poll ${WATCH_QUERIES[i]}`, 30_000);
        assert.equal(r!.status, 200, `${WATCH_QUERIES[i]}: ${r!.body}`);
        assert.equal(JSON.parse(r!.body).node.value, 'changed', WATCH_QUERIES[i]);
      }
      await assertMemberNeverFailed(proxy, mode);
    });
  }

  test(`${SLOW_READERS} clients that do not read a large answer hold up no other client, and get it all once they read`, async () => {
    const { proxy } = proxies.find((p) => p.label === 'slow')!;
    const dir = `${prefix}/big`;
    for (let i = 0; i < VALUES; i++) {
      assert.equal((await http('PUT', `${member.clientUrl}/v2/keys${dir}/v${i}`, { form: { value: BIG } })).status, 201);
    }
    const sentBefore = await proxy.requestsTo(member.clientUrl);
    const slow: RawConnection[] = [];
    for (let i = 0; i < SLOW_READERS; i++) {
      const c = await connect(proxy.url);
      c.socket.pause(); // never reads: the proxy's writes to it back up
      c.send(get(`/v2/keys${dir}?recursive=true`));
      slow.push(c);
    }
    await waitFor(async () => (await proxy.requestsTo(member.clientUrl)) >= sentBefore + SLOW_READERS, { timeoutMs: 10_000, what: 'the large reads to reach the member' });
    for (let i = 0; i < 10; i++) {
      const r = await http('GET', `${proxy.url}/v2/keys${prefix}/small`, { timeoutMs: 30_000 });
      assert.equal(r.status, 200, `read ${i}: ${r.body}`);
    }
    const many = await Promise.all(Array.from({ length: 40 }, () => http('GET', `${proxy.url}/v2/keys${prefix}/small`, { timeoutMs: 30_000 })));
    assert.deepEqual(many.map((r) => r.status), many.map(() => 200));
    await assertMemberNeverFailed(proxy, 'on');
    // Every slow client, once it reads, gets its whole answer (those queued behind another are too).
    for (const c of slow) c.socket.resume();
    for (const [i, c] of slow.entries()) {
      const [r] = await c.responses(1, `slow reader ${i}'s answer`, 60_000);
      assert.equal(r!.status, 200, `slow reader ${i}: ${r!.body.slice(0, 300)}`);
      const nodes = JSON.parse(r!.body).node.nodes as Array<{ value: string }>;
      assert.equal(nodes.length, VALUES, `slow reader ${i}`);
      assert.ok(nodes.every((n) => n.value === BIG), `slow reader ${i}: values intact`);
      c.destroy();
    }
    await assertMemberNeverFailed(proxy, 'on');
  });
});
