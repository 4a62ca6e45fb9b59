/**
 * TTLs past what a clock can hold, through every write that takes one, on a real 3-member cluster.
 * `ttl=9007199254740993` once crashed every member in the apply loop, and again at each restart on
 * the same committed entry; etcd answers these writes and keeps serving, and so must we (the keys
 * are permanent: their expiration is past the last one etcd can hold).
 *
 * e2e-lane: beside (mostly waiting: 4 s of CPU in 9 s alone; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('extreme TTLs on a 3-member cluster', { skip: SKIP }, () => {
  let cluster: DeimosCluster;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('every write with a TTL at or past 2^53 and up to 2^64-1 is answered, and every member survives and restarts', async () => {
    const via = cluster.live()[1]!;
    for (const ttl of ['9007199254740993', '18446744073709551615']) {
      const k = uniqueKey('ttl');
      const writes: Array<[string, string, string, number]> = [
        ['PUT', `/v2/keys${k}`, `value=a&ttl=${ttl}`, 201],
        ['POST', `/v2/keys${k}-queue`, `value=q&ttl=${ttl}`, 201],
        ['PUT', `/v2/keys${k}?prevExist=true`, `value=b&ttl=${ttl}`, 200],
        ['PUT', `/v2/keys${k}?prevValue=b`, `value=c&ttl=${ttl}`, 200],
        ['PUT', `/v2/keys${k}?refresh=true`, `ttl=${ttl}`, 200],
        ['PUT', `/v2/keys${k}-new?prevExist=false`, `value=d&ttl=${ttl}`, 201],
      ];
      for (const [method, path, body, status] of writes) {
        const res = await http(method, `${via.clientUrl}${path}`, { body, headers: FORM, timeoutMs: 15_000 });
        assert.equal(res.status, status, `${method} ${path} ${body}: ${res.body}`);
        // Past 2262 etcd cannot hold the expiration and keeps the key for ever; so do we.
        assert.deepEqual([res.json.node.ttl, res.json.node.expiration], [undefined, undefined], `a permanent key: ${res.body}`);
      }
      const get = await http('GET', `${via.clientUrl}/v2/keys${k}`);
      assert.equal(get.json.node.value, 'c', get.body);
    }
    for (const m of cluster.members) assert.equal(m.exitCode, null, `${m.name} is alive`);
    for (const m of [...cluster.members]) await cluster.restart(m);
    await cluster.waitConverged({ timeoutMs: 30_000 });
    for (const m of cluster.members) assert.equal(m.exitCode, null, `${m.name} is alive after its restart`);
  });
});
