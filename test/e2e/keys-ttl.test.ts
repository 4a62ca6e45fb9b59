/**
 * TTLs (spec §6): ttl and expiration fields, the countdown, expiry (removal, `expire` events,
 * directories), removing a TTL, refresh, and ttl=0. Expiry is awaited by polling with deadlines.
 *
 * e2e-lane: beside (one member, mostly waiting for expiries; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertKeysError, assertSuccessHeaders, EXPIRATION_PATTERN, header, KeysClient, parseJsonBody } from '../support/keys-client.js';
import { KeysTarget, PATH_FAMILIES, uniqueKey } from '../support/keys-target.js';
import { Watch } from '../support/watch.js';

let target: KeysTarget;
const watches: Watch[] = [];

before(async () => {
  target = await KeysTarget.start();
});

after(async () => {
  for (const w of watches) w.close();
  await target?.destroy();
});

async function watch(url: string): Promise<Watch> {
  const w = await Watch.open(url);
  watches.push(w);
  return w;
}

/** Polls GET `key` until it answers 404; returns the time (ms since epoch) it first did. */
async function waitUntilGone(keys: KeysClient, key: string, deadline: number): Promise<number> {
  for (;;) {
    const res = await keys.get(key);
    if (res.status === 404) return Date.now();
    assert.equal(res.status, 200, res.body);
    if (Date.now() > deadline) assert.fail(`${key} still present ${Date.now() - deadline} ms after the deadline: ${res.body}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FIELDS_WITH_TTL = ['key', 'value', 'expiration', 'ttl', 'modifiedIndex', 'createdIndex'];

for (const family of PATH_FAMILIES) {
  describe(`TTLs on ${family.prefix}`, { skip: family.skip }, () => {
    let keys: KeysClient;
    before(() => {
      keys = new KeysClient(target.clientUrl, family.prefix);
    });

    test('a key set with a ttl reports ttl and an RFC3339 UTC expiration, in Go field order', async () => {
      const key = uniqueKey('ttl-fields');
      const sentAt = Date.now();
      const res = await keys.set(key, 'v', { ttl: '50' });
      assert.equal(res.status, 201);
      assertSuccessHeaders(res);
      const node = parseJsonBody(res).node;
      assert.deepEqual(Object.keys(node), FIELDS_WITH_TTL);
      assert.equal(node.ttl, 50);
      assert.match(node.expiration, EXPIRATION_PATTERN);
      const expiresAt = Date.parse(node.expiration);
      assert.ok(Math.abs(expiresAt - (sentAt + 50_000)) < 1500, `expiration ${node.expiration} is about now + 50 s`);
      const get = parseJsonBody(await keys.get(key)).node;
      assert.equal(get.expiration, node.expiration);
      assert.ok(get.ttl === 50 || get.ttl === 49, `ttl ${get.ttl}`);
      await keys.delete(key);
    });

    test('ttl counts down in whole seconds, rounded up, while the expiration stays fixed', async () => {
      const key = uniqueKey('countdown');
      const node = parseJsonBody(await keys.set(key, 'v', { ttl: '5' })).node;
      assert.equal(node.ttl, 5);
      const expiresAt = Date.parse(node.expiration);
      let seen: any;
      const deadline = Date.now() + 4000;
      while (Date.now() < deadline) {
        const sentAt = Date.now();
        seen = parseJsonBody(await keys.get(key)).node;
        const answeredAt = Date.now();
        assert.equal(seen.expiration, node.expiration);
        const low = Math.ceil((expiresAt - answeredAt - 10) / 1000);
        const high = Math.ceil((expiresAt - sentAt + 10) / 1000);
        assert.ok(seen.ttl >= low && seen.ttl <= high, `ttl ${seen.ttl} is the rounded-up remaining time (${low}..${high})`);
        if (seen.ttl === 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen.ttl, 3, 'ttl reached 3 about 2 s after being set to 5');
      await keys.delete(key);
    });

    test('an expired key is removed shortly after its expiration, not before', async () => {
      const key = uniqueKey('expire');
      const node = parseJsonBody(await keys.set(key, 'v', { ttl: '1' })).node;
      const expiresAt = Date.parse(node.expiration);
      assert.equal((await keys.get(key)).status, 200, 'readable right after the write');
      const goneAt = await waitUntilGone(keys, key, expiresAt + 1500);
      assert.ok(goneAt >= expiresAt - 50, `removed ${expiresAt - goneAt} ms before its expiration`);
      const res = await keys.get(key);
      assertKeysError(res, { status: 404, errorCode: 100, cause: key });
      assert.ok(Number(header(res, 'x-etcd-index')) > node.modifiedIndex, 'the expiry took an index');
    });

    test('expiry sends an "expire" event whose node has no value and whose prevNode has the value', async () => {
      const key = uniqueKey('expire-event');
      const node = parseJsonBody(await keys.set(key, 'bye', { ttl: '1' })).node;
      const w = await watch(keys.url(key, { wait: 'true' }));
      assert.equal(w.status, 200);
      const event = await w.next(4000);
      assert.equal(event.action, 'expire');
      assert.deepEqual(Object.keys(event.node), ['key', 'modifiedIndex', 'createdIndex']);
      assert.equal(event.node.key, key);
      assert.equal(event.node.createdIndex, node.createdIndex);
      assert.ok(event.node.modifiedIndex > node.modifiedIndex);
      assert.equal(event.prevNode.key, key);
      assert.equal(event.prevNode.value, 'bye');
      assert.equal(event.prevNode.expiration, node.expiration);
      assert.equal(event.prevNode.modifiedIndex, node.modifiedIndex);
      assert.ok(Date.now() >= Date.parse(node.expiration) - 50, 'not before the expiration');
      const history = await watch(keys.url(key, { wait: 'true', waitIndex: String(node.modifiedIndex + 1) }));
      assert.deepEqual(await history.next(2000), event, 'the expire event is in the history');
    });

    test('a directory with a ttl expires with its whole subtree and notifies watchers of children', async () => {
      const dir = uniqueKey('dir-ttl');
      const node = parseJsonBody(await keys.put(dir, { dir: 'true', ttl: '1' })).node;
      assert.equal(node.dir, true);
      assert.equal(node.ttl, 1);
      await keys.set(`${dir}/child/leaf`, 'v');
      const w = await watch(keys.url(`${dir}/child/leaf`, { wait: 'true' }));
      const event = await w.next(4000);
      assert.equal(event.action, 'expire');
      assert.equal(event.node.key, dir);
      assert.equal(event.node.dir, true);
      assert.equal(event.prevNode.key, dir);
      assertKeysError(await keys.get(`${dir}/child/leaf`), { status: 404, errorCode: 100, cause: dir });
      assertKeysError(await keys.get(dir), { status: 404, errorCode: 100, cause: dir });
    });

    test('an empty ttl on update removes the TTL', async () => {
      const key = uniqueKey('ttl-empty');
      await keys.set(key, 'v', { ttl: '100' });
      const res = parseJsonBody(await keys.set(key, 'w', { ttl: '', prevExist: 'true' }));
      assert.equal(res.action, 'update');
      assert.deepEqual(Object.keys(res.node), ['key', 'value', 'modifiedIndex', 'createdIndex']);
      assert.equal(res.prevNode.ttl, 100);
      assert.deepEqual(Object.keys(parseJsonBody(await keys.get(key)).node), ['key', 'value', 'modifiedIndex', 'createdIndex']);
    });

    test('set, update and compare-and-swap without a ttl make the key permanent', async () => {
      const key = uniqueKey('ttl-dropped');
      const plain = ['key', 'value', 'modifiedIndex', 'createdIndex'];
      await keys.set(key, 'a', { ttl: '100' });
      assert.deepEqual(Object.keys(parseJsonBody(await keys.set(key, 'b')).node), plain, 'set');
      await keys.set(key, 'c', { ttl: '100' });
      assert.deepEqual(Object.keys(parseJsonBody(await keys.set(key, 'd', { prevExist: 'true' })).node), plain, 'update');
      await keys.set(key, 'e', { ttl: '100' });
      assert.deepEqual(Object.keys(parseJsonBody(await keys.set(key, 'f', { prevValue: 'e' })).node), plain, 'compareAndSwap');
      assert.deepEqual(Object.keys(parseJsonBody(await keys.get(key)).node), plain);
    });

    test('refresh=true with prevExist=true and a ttl keeps the value and createdIndex, bumps modifiedIndex and resets the ttl', async () => {
      const key = uniqueKey('refresh');
      const node = parseJsonBody(await keys.set(key, 'keep', { ttl: '3' })).node;
      const res = await keys.put(key, { refresh: 'true', prevExist: 'true', ttl: '100' });
      assert.equal(res.status, 200);
      assertSuccessHeaders(res, node.modifiedIndex + 1);
      const body = parseJsonBody(res);
      assert.equal(body.action, 'update');
      assert.equal(body.node.value, 'keep');
      assert.equal(body.node.ttl, 100);
      assert.equal(body.node.createdIndex, node.createdIndex);
      assert.equal(body.node.modifiedIndex, node.modifiedIndex + 1);
      assert.equal(body.prevNode.value, 'keep');
      assert.equal(body.prevNode.expiration, node.expiration);
      assert.ok(Date.parse(body.node.expiration) > Date.parse(node.expiration) + 90_000);
      await keys.delete(key);
    });

    test('a refresh does not wake watchers, and history scans skip it', async () => {
      const key = uniqueKey('refresh-quiet');
      const node = parseJsonBody(await keys.set(key, 'v', { ttl: '100' })).node;
      const w = await watch(keys.url(key, { wait: 'true' }));
      const refreshed = parseJsonBody(await keys.put(key, { refresh: 'true', prevExist: 'true', ttl: '200' })).node;
      assert.equal(refreshed.modifiedIndex, node.modifiedIndex + 1);
      const set = parseJsonBody(await keys.set(key, 'after')).node;
      const event = await w.next(3000);
      assert.equal(event.action, 'set', `the watcher skipped the refresh: ${JSON.stringify(event)}`);
      assert.equal(event.node.modifiedIndex, set.modifiedIndex);
      const history = await watch(keys.url(key, { wait: 'true', waitIndex: String(refreshed.modifiedIndex) }));
      const scanned = await history.next(2000);
      assert.equal(scanned.action, 'set');
      assert.equal(scanned.node.modifiedIndex, set.modifiedIndex);
    });

    test('refresh without prevExist answers "set" with the old value; with prevValue "compareAndSwap"', async () => {
      const key = uniqueKey('refresh-set');
      const node = parseJsonBody(await keys.set(key, 'old', { ttl: '100' })).node;
      const set = await keys.put(key, { refresh: 'true', ttl: '50' });
      assert.equal(set.status, 200);
      const body = parseJsonBody(set);
      assert.equal(body.action, 'set');
      assert.equal(body.node.value, 'old');
      assert.equal(body.node.ttl, 50);
      assert.equal(body.node.createdIndex, node.modifiedIndex + 1, 'set resets createdIndex even on refresh');
      const cas = parseJsonBody(await keys.put(key, { refresh: 'true', ttl: '60', prevValue: 'old' }));
      assert.equal(cas.action, 'compareAndSwap');
      assert.equal(cas.node.value, 'old');
      assert.equal(cas.node.ttl, 60);
      assertKeysError(await keys.put(key, { refresh: 'true', ttl: '60', prevValue: 'new' }), { status: 412, errorCode: 101 });
      await keys.delete(key);
    });

    test('refresh of a missing key fails with 404/100, and with prevExist=false creates an empty key', async () => {
      const key = uniqueKey('refresh-missing');
      assertKeysError(await keys.put(key, { refresh: 'true', ttl: '5', prevExist: 'true' }), { status: 404, errorCode: 100, cause: key });
      assertKeysError(await keys.put(key, { refresh: 'true', ttl: '5' }), { status: 404, errorCode: 100, cause: key });
      const created = await keys.put(key, { refresh: 'true', ttl: '100', prevExist: 'false' });
      assert.equal(created.status, 201);
      const body = parseJsonBody(created);
      assert.equal(body.action, 'create');
      assert.equal(body.node.value, '');
      assert.equal(body.node.ttl, 100);
      await keys.delete(key);
    });

    test('refresh with a value fails with 211 and without a ttl with 212', async () => {
      const key = uniqueKey('refresh-errors');
      await keys.set(key, 'v', { ttl: '100' });
      assertKeysError(await keys.put(key, { refresh: 'true', prevExist: 'true', ttl: '5' }, { value: 'x' }), { status: 400, errorCode: 211, cause: 'A value was provided on a refresh', index: 0 });
      assertKeysError(await keys.put(key, { refresh: 'true', prevExist: 'true' }), { status: 400, errorCode: 212, cause: 'No TTL value set', index: 0 });
      assertKeysError(await keys.put(key, { refresh: 'true', prevExist: 'true', ttl: '' }), { status: 400, errorCode: 212, cause: 'No TTL value set', index: 0 });
      assert.equal(parseJsonBody(await keys.get(key)).node.value, 'v');
      await keys.delete(key);
    });

    test('ttl=0 sets an expiration of now without a ttl field, and the key expires promptly', async () => {
      const key = uniqueKey('ttl-zero');
      const sentAt = Date.now();
      const res = await keys.set(key, 'v', { ttl: '0' });
      assert.equal(res.status, 201);
      const node = parseJsonBody(res).node;
      assert.deepEqual(Object.keys(node), ['key', 'value', 'expiration', 'modifiedIndex', 'createdIndex']);
      assert.match(node.expiration, EXPIRATION_PATTERN);
      assert.ok(Math.abs(Date.parse(node.expiration) - sentAt) < 1000, `expiration ${node.expiration} is about now`);
      await waitUntilGone(keys, key, Date.parse(node.expiration) + 1500);
    });

    test('POST honours ttl', async () => {
      const queue = uniqueKey('post-ttl');
      const node = parseJsonBody(await keys.post(queue, { ttl: '1' }, { value: 'q' })).node;
      assert.equal(node.ttl, 1);
      await waitUntilGone(keys, node.key, Date.parse(node.expiration) + 1500);
      const dir = parseJsonBody(await keys.get(queue)).node;
      assert.equal(dir.nodes, undefined, 'the queue is empty after the expiry');
    });

    test('every expiry takes exactly one index', async () => {
      const top = uniqueKey('expiry-index');
      const before = await keys.index();
      const a = parseJsonBody(await keys.set(`${top}/a`, 'v', { ttl: '1' })).node;
      const b = parseJsonBody(await keys.set(`${top}/b`, 'v', { ttl: '1' })).node;
      assert.deepEqual([a.modifiedIndex, b.modifiedIndex], [before + 1, before + 2]);
      await waitUntilGone(keys, `${top}/a`, Date.parse(a.expiration) + 1500);
      await waitUntilGone(keys, `${top}/b`, Date.parse(b.expiration) + 1500);
      assert.equal(await keys.index(), before + 4);
      const w = await watch(keys.url(top, { wait: 'true', recursive: 'true', waitIndex: String(before + 3) }));
      const first = await w.next(2000);
      assert.equal(first.action, 'expire');
      assert.equal(first.node.modifiedIndex, before + 3);
    });
  });
}
