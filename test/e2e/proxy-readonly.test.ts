/**
 * Read-only proxies in front of a real member, run both ways (the standalone `deimos-proxy --proxy
 * readonly --endpoints ...` and the original `deimos --proxy readonly --bootstrap-config ...`): every
 * write method gets 501 with a JSON body, reads and watches pass, and the two behave the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';
import { Watch } from '../support/watch.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;
const WRITE_METHODS = ['PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'];

describe('read-only proxies', { skip: SKIP }, () => {
  let member: DeimosProcess;
  const proxies: Array<{ label: string; proxy: ProxyProcess }> = [];
  const key = uniqueKey('readonly');

  before(async () => {
    member = await DeimosProcess.start({ name: 'ro1' });
    const put = await http('PUT', `${member.clientUrl}/v2/keys${key}`, { form: { value: 'original' } });
    assert.equal(put.status, 201, put.body);
    proxies.push({ label: 'deimos-proxy', proxy: await ProxyProcess.start({ args: ['--proxy', 'readonly', '--endpoints', member.clientUrl] }) });
    proxies.push({
      label: 'deimos --proxy',
      proxy: await ProxyProcess.start({
        viaServer: true,
        // Member-only flags (--name, --data-dir) are accepted and ignored, as the original accepted them.
        args: ['--proxy', 'readonly', '--bootstrap-config', `ro1=${member.peerUrl}`, '--name', 'px', '--data-dir', '/nonexistent'],
      }),
    });
    // The proxy answers /metrics as soon as it listens, and its first member-list refresh (from the
    // peer URL; it has no client URL to start from) completes a moment later.
    const viaServer = proxies[1]!.proxy;
    await waitFor(async () => (await viaServer.upstreams()).length > 0, { timeoutMs: 10_000, what: '`deimos --proxy` to learn a member from the peer URL' });
  });

  after(async () => {
    for (const { proxy } of proxies) await proxy.stop();
    await member?.destroy();
  });

  async function each(check: (proxy: ProxyProcess, label: string) => Promise<void>): Promise<void> {
    assert.equal(proxies.length, 2);
    for (const { label, proxy } of proxies) await check(proxy, label);
  }

  test('`deimos --proxy readonly --bootstrap-config` learns the client URL from the peer URL', async () => {
    assert.deepEqual(await proxies[1]!.proxy.upstreams(), [member.clientUrl]);
  });

  test('refuses every write method with 501 and a JSON body', async () => {
    await each(async (proxy, label) => {
      for (const method of WRITE_METHODS) {
        const res = await http(method, `${proxy.url}/v2/keys${key}`, method === 'DELETE' || method === 'OPTIONS' ? {} : { form: { value: 'changed' } });
        assert.equal(res.status, 501, `${label} ${method}: ${res.body}`);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        assert.match(res.json.message, new RegExp(`read-only: ${method} is not allowed`));
      }
      for (const path of ['/v2/members', '/v2/members/abc']) {
        const res = await http(path.endsWith('abc') ? 'DELETE' : 'POST', `${proxy.url}${path}`, { body: '{"peerURLs":["http://127.0.0.1:1"]}', headers: { 'Content-Type': 'application/json' } });
        assert.equal(res.status, 501, `${label} members ${path}`);
      }
    });
    const after = await http('GET', `${member.clientUrl}/v2/keys${key}`);
    assert.equal(after.json.node.value, 'original', 'nothing reached the member');
  });

  test('passes GET and HEAD with the same answers as the member', async () => {
    const direct = await http('GET', `${member.clientUrl}/v2/keys${key}`);
    await each(async (proxy, label) => {
      const res: TestResponse = await http('GET', `${proxy.url}/v2/keys${key}`);
      assert.equal(res.status, 200, label);
      assert.equal(res.body, direct.body, label);
      assert.equal(res.headers['x-etcd-index'], direct.headers['x-etcd-index'], label);
      const head = await http('HEAD', `${proxy.url}/v2/keys${key}`);
      assert.equal(head.status, 200, label);
      assert.equal(head.body, '');
      assert.equal((await http('GET', `${proxy.url}/v2/keys/readonly-missing`)).status, 404, label);
    });
  });

  test('passes long-poll and stream watches', async () => {
    await each(async (proxy, label) => {
      const poll = await Watch.open(`${proxy.url}/v2/keys${key}?wait=true`);
      const stream = await Watch.open(`${proxy.url}/v2/keys${key}?wait=true&stream=true`);
      try {
        await http('PUT', `${member.clientUrl}/v2/keys${key}`, { form: { value: `via-${label}` } });
        assert.equal((await poll.next()).node.value, `via-${label}`, label);
        assert.equal((await stream.next()).node.value, `via-${label}`, label);
        await http('PUT', `${member.clientUrl}/v2/keys${key}`, { form: { value: 'original' } });
        assert.equal((await stream.next()).node.value, 'original', label);
      } finally {
        poll.close();
        stream.close();
      }
    });
  });
});
