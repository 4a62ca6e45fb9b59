/**
 * Keys API basics (spec §2-§4): set/get/create/update/compare-and-swap/compare-and-delete/delete,
 * their actions, statuses, node and prevNode fields, index rules and headers, on both path families.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/http.js';
import { assertKeysError, assertSuccessHeaders, ERROR_MESSAGES, header, KeysClient, parseJsonBody } from '../support/keys-client.js';
import { deimosOnly, KeysTarget, PATH_FAMILIES, uniqueKey } from '../support/keys-target.js';

let target: KeysTarget;

before(async () => {
  target = await KeysTarget.start();
});

after(async () => {
  await target?.destroy();
});

for (const family of PATH_FAMILIES) {
  describe(`keys basics on ${family.prefix}`, { skip: family.skip }, () => {
    let keys: KeysClient;
    before(() => {
      keys = new KeysClient(target.clientUrl, family.prefix);
    });

    test('a PUT of a new key answers 201 "set" with the node at the next index and no prevNode', async () => {
      const key = uniqueKey('set-new');
      const before = await keys.index();
      const res = await keys.set(key, 'hello');
      assert.equal(res.status, 201);
      assertSuccessHeaders(res, before + 1);
      assert.equal(res.body, `{"action":"set","node":{"key":"${key}","value":"hello","modifiedIndex":${before + 1},"createdIndex":${before + 1}}}\n`);
    });

    test('a PUT over an existing key answers 200 "set" with prevNode and resets createdIndex', async () => {
      const key = uniqueKey('set-over');
      const first = parseJsonBody(await keys.set(key, 'one'));
      const res = await keys.set(key, 'two');
      assert.equal(res.status, 200);
      const body = parseJsonBody(res);
      const index = first.node.modifiedIndex + 1;
      assertSuccessHeaders(res, index);
      assert.deepEqual(body, {
        action: 'set',
        node: { key, value: 'two', modifiedIndex: index, createdIndex: index },
        prevNode: { key, value: 'one', modifiedIndex: first.node.modifiedIndex, createdIndex: first.node.createdIndex },
      });
      assert.deepEqual(Object.keys(body), ['action', 'node', 'prevNode']);
    });

    test('a GET answers 200 "get" with the node and X-Etcd-Index at the current index', async () => {
      const key = uniqueKey('get');
      const set = parseJsonBody(await keys.set(key, 'v'));
      await keys.set(uniqueKey('get-other'), 'x');
      const res = await keys.get(key);
      assert.equal(res.status, 200);
      assertSuccessHeaders(res, set.node.modifiedIndex + 1);
      assert.equal(res.body, `{"action":"get","node":{"key":"${key}","value":"v","modifiedIndex":${set.node.modifiedIndex},"createdIndex":${set.node.createdIndex}}}\n`);
    });

    test('a GET of a missing key answers 404 with error 100, the key as cause and the current index', async () => {
      const key = uniqueKey('missing');
      const index = await keys.index();
      assertKeysError(await keys.get(key), { status: 404, errorCode: 100, message: ERROR_MESSAGES[100], cause: key, index });
    });

    test('a file always has a value, even an empty one', async () => {
      const key = uniqueKey('empty-value');
      const res = await keys.put(key);
      assert.equal(res.status, 201);
      assert.equal(parseJsonBody(res).node.value, '');
      assert.equal(parseJsonBody(await keys.get(key)).node.value, '');
    });

    test('prevExist=false creates a missing key with 201 "create" and fails with 412/105 on an existing one', async () => {
      const key = uniqueKey('create');
      const before = await keys.index();
      const res = await keys.set(key, 'c', { prevExist: 'false' });
      assert.equal(res.status, 201);
      assertSuccessHeaders(res, before + 1);
      assert.deepEqual(parseJsonBody(res), { action: 'create', node: { key, value: 'c', modifiedIndex: before + 1, createdIndex: before + 1 } });
      assertKeysError(await keys.set(key, 'd', { prevExist: 'false' }), { status: 412, errorCode: 105, message: ERROR_MESSAGES[105], cause: key, index: before + 1 });
      assert.equal(parseJsonBody(await keys.get(key)).node.value, 'c');
    });

    test('prevExist=true updates an existing key with 200 "update", keeping createdIndex', async () => {
      const key = uniqueKey('update');
      const first = parseJsonBody(await keys.set(key, 'a'));
      const res = await keys.set(key, 'b', { prevExist: 'true' });
      assert.equal(res.status, 200);
      const index = first.node.modifiedIndex + 1;
      assertSuccessHeaders(res, index);
      assert.deepEqual(parseJsonBody(res), {
        action: 'update',
        node: { key, value: 'b', modifiedIndex: index, createdIndex: first.node.createdIndex },
        prevNode: { key, value: 'a', modifiedIndex: first.node.modifiedIndex, createdIndex: first.node.createdIndex },
      });
    });

    test('prevExist=true on a missing key fails with 404/100', async () => {
      const key = uniqueKey('update-missing');
      const index = await keys.index();
      assertKeysError(await keys.set(key, 'b', { prevExist: 'true' }), { status: 404, errorCode: 100, cause: key, index });
    });

    test('the original Deimos spelling prevExists is accepted as an alias of prevExist', deimosOnly('prevExists is the original Deimos parameter name'), async () => {
      const key = uniqueKey('prev-exists');
      const created = await keys.set(key, 'a', { prevExists: 'false' });
      assert.equal(created.status, 201);
      assert.equal(parseJsonBody(created).action, 'create');
      assertKeysError(await keys.set(key, 'a', { prevExists: 'false' }), { status: 412, errorCode: 105, cause: key });
      const updated = await keys.set(key, 'b', { prevExists: 'true' });
      assert.equal(updated.status, 200);
      assert.equal(parseJsonBody(updated).action, 'update');
      assertKeysError(await keys.set(`${key}-nope`, 'a', { prevExists: 'true' }), { status: 404, errorCode: 100, cause: `${key}-nope` });
      assertKeysError(await keys.set(key, 'a', { prevExists: 'maybe' }), { status: 400, errorCode: 209, index: 0 });
    });

    test('compare-and-swap on prevValue answers "compareAndSwap", keeps createdIndex, and reports a mismatch as 412/101', async () => {
      const key = uniqueKey('cas-value');
      const first = parseJsonBody(await keys.set(key, 'one'));
      const cur = first.node.modifiedIndex;
      assertKeysError(await keys.set(key, 'two', { prevValue: 'zero' }), { status: 412, errorCode: 101, message: ERROR_MESSAGES[101], cause: '[zero != one]', index: cur });
      const res = await keys.set(key, 'two', { prevValue: 'one' });
      assert.equal(res.status, 200);
      assertSuccessHeaders(res, cur + 1);
      assert.deepEqual(parseJsonBody(res), {
        action: 'compareAndSwap',
        node: { key, value: 'two', modifiedIndex: cur + 1, createdIndex: first.node.createdIndex },
        prevNode: { key, value: 'one', modifiedIndex: cur, createdIndex: first.node.createdIndex },
      });
    });

    test('compare-and-swap on prevIndex checks modifiedIndex, and both conditions must hold', async () => {
      const key = uniqueKey('cas-index');
      const first = parseJsonBody(await keys.set(key, 'one'));
      const mi = first.node.modifiedIndex;
      assertKeysError(await keys.set(key, 'x', { prevIndex: String(mi + 100) }), { status: 412, errorCode: 101, cause: `[${mi + 100} != ${mi}]`, index: mi });
      assertKeysError(await keys.set(key, 'x', { prevValue: 'nope', prevIndex: String(mi + 100) }), { status: 412, errorCode: 101, cause: `[nope != one] [${mi + 100} != ${mi}]`, index: mi });
      assertKeysError(await keys.set(key, 'x', { prevValue: 'one', prevIndex: String(mi + 100) }), { status: 412, errorCode: 101, index: mi });
      assertKeysError(await keys.set(key, 'x', { prevValue: 'nope', prevIndex: String(mi) }), { status: 412, errorCode: 101, index: mi });
      const res = await keys.set(key, 'two', { prevValue: 'one', prevIndex: String(mi) });
      assert.equal(res.status, 200);
      const body = parseJsonBody(res);
      assert.equal(body.action, 'compareAndSwap');
      assert.equal(body.node.createdIndex, first.node.createdIndex);
      assert.equal(body.node.modifiedIndex, mi + 1);
      const byIndex = await keys.set(key, 'three', { prevIndex: String(mi + 1), prevExist: 'true' });
      assert.equal(byIndex.status, 200);
      assert.equal(parseJsonBody(byIndex).action, 'compareAndSwap');
    });

    test('compare-and-swap on a missing key fails with 404/100 before comparing', async () => {
      const key = uniqueKey('cas-missing');
      assertKeysError(await keys.set(key, 'x', { prevValue: 'a' }), { status: 404, errorCode: 100, cause: key });
      assertKeysError(await keys.set(key, 'x', { prevIndex: '5' }), { status: 404, errorCode: 100, cause: key });
    });

    test('prevIndex=0 is no condition: the PUT is a plain set', async () => {
      const key = uniqueKey('prev-index-zero');
      const res = await keys.set(key, 'v', { prevIndex: '0' });
      assert.equal(res.status, 201);
      assert.equal(parseJsonBody(res).action, 'set');
    });

    test('a DELETE of a file answers 200 "delete" with a valueless node and the old node as prevNode', async () => {
      const key = uniqueKey('delete');
      const first = parseJsonBody(await keys.set(key, 'gone'));
      const res = await keys.delete(key);
      assert.equal(res.status, 200);
      const index = first.node.modifiedIndex + 1;
      assertSuccessHeaders(res, index);
      assert.equal(res.body, `{"action":"delete","node":{"key":"${key}","modifiedIndex":${index},"createdIndex":${first.node.createdIndex}},`
        + `"prevNode":{"key":"${key}","value":"gone","modifiedIndex":${first.node.modifiedIndex},"createdIndex":${first.node.createdIndex}}}\n`);
      assertKeysError(await keys.get(key), { status: 404, errorCode: 100, cause: key, index });
      assertKeysError(await keys.delete(key), { status: 404, errorCode: 100, cause: key, index });
    });

    test('compare-and-delete answers "compareAndDelete" on a match and 412/101 on a mismatch', async () => {
      const key = uniqueKey('cad');
      const first = parseJsonBody(await keys.set(key, 'v'));
      const mi = first.node.modifiedIndex;
      assertKeysError(await keys.delete(key, { prevValue: 'w' }), { status: 412, errorCode: 101, cause: '[w != v]', index: mi });
      assertKeysError(await keys.delete(key, { prevIndex: String(mi + 7) }), { status: 412, errorCode: 101, cause: `[${mi + 7} != ${mi}]`, index: mi });
      // The largest uint64 is printed as given, not as the nearest double.
      const max = '18446744073709551615';
      assertKeysError(await keys.delete(key, { prevIndex: max }), { status: 412, errorCode: 101, cause: `[${max} != ${mi}]`, index: mi });
      assertKeysError(await keys.set(key, 'x', { prevIndex: max }), { status: 412, errorCode: 101, cause: `[${max} != ${mi}]`, index: mi });
      const res = await keys.delete(key, { prevValue: 'v', prevIndex: String(mi) });
      assert.equal(res.status, 200);
      assertSuccessHeaders(res, mi + 1);
      assert.deepEqual(parseJsonBody(res), {
        action: 'compareAndDelete',
        node: { key, modifiedIndex: mi + 1, createdIndex: first.node.createdIndex },
        prevNode: { key, value: 'v', modifiedIndex: mi, createdIndex: first.node.createdIndex },
      });
      assertKeysError(await keys.delete(key, { prevValue: 'v' }), { status: 404, errorCode: 100, cause: key });
      const again = parseJsonBody(await keys.set(key, 'v2'));
      const byIndex = await keys.delete(key, { prevIndex: String(again.node.modifiedIndex) });
      assert.equal(byIndex.status, 200);
      assert.equal(parseJsonBody(byIndex).action, 'compareAndDelete');
    });

    test('DELETE ignores prevExist', async () => {
      const key = uniqueKey('delete-prev-exist');
      await keys.set(key, 'v');
      const res = await keys.delete(key, { prevExist: 'false' });
      assert.equal(res.status, 200);
      assert.equal(parseJsonBody(res).action, 'delete');
    });

    test('the store index grows by exactly one per successful write and not at all on failures', async () => {
      const key = uniqueKey('index-steps');
      let expected = await keys.index();
      const step = async (res: Promise<import('../support/http.js').TestResponse>, kind: 'write' | 'read' | 'fail') => {
        const r = await res;
        if (kind === 'read') {
          assert.equal(r.status, 200, r.body);
          assert.equal(Number(header(r, 'x-etcd-index')), expected, 'a read reports the current index');
        } else if (kind === 'write') {
          expected += 1;
          assert.ok(r.status === 200 || r.status === 201, `expected success, got ${r.status} ${r.body}`);
          assert.equal(Number(header(r, 'x-etcd-index')), expected, `index after ${r.body}`);
        } else {
          assert.ok(r.status >= 400, `expected failure, got ${r.status} ${r.body}`);
        }
        assert.equal(await keys.index(), expected, 'current index');
      };
      await step(keys.set(key, 'a'), 'write');
      await step(keys.set(key, 'a', { prevExist: 'false' }), 'fail');
      await step(keys.set(key, 'b', { prevExist: 'true' }), 'write');
      await step(keys.set(key, 'c', { prevValue: 'nope' }), 'fail');
      await step(keys.set(key, 'c', { prevValue: 'b' }), 'write');
      await step(keys.get(key), 'read');
      await step(keys.get(`${key}/x`), 'fail');
      await step(keys.delete(key, { prevValue: 'nope' }), 'fail');
      await step(keys.delete(key, { prevValue: 'c' }), 'write');
      await step(keys.delete(key), 'fail');
      await step(keys.set(key, 'x', { ttl: 'abc' }), 'fail');
      await step(keys.set(`${key}/a/b`, 'deep'), 'write');
      await step(keys.delete(key, { recursive: 'true' }), 'write');
    });

    test('concurrent writes get distinct, contiguous indexes', async () => {
      const top = uniqueKey('concurrent');
      const before = await keys.index();
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => keys.set(`${top}/k${i % 7}`, String(i))));
      const indexes = results.map((r) => {
        assert.ok(r.status === 200 || r.status === 201, r.body);
        return parseJsonBody(r).node.modifiedIndex as number;
      }).sort((a, b) => a - b);
      assert.deepEqual(indexes, Array.from({ length: 40 }, (_, i) => before + 1 + i));
      assert.equal(await keys.index(), before + 40);
    });

    test('noValueOnSuccess=true reduces successful set, create, update and compare-and-swap answers to the action', async () => {
      const key = uniqueKey('no-value');
      const q = { noValueOnSuccess: 'true' };
      const create = await keys.set(key, 'a', { ...q, prevExist: 'false' });
      assert.equal(create.status, 201);
      assertSuccessHeaders(create);
      assert.equal(create.body, '{"action":"create"}\n');
      const set = await keys.set(key, 'b', q);
      assert.equal(set.status, 200);
      assert.equal(set.body, '{"action":"set"}\n');
      const setNew = await keys.set(`${key}-2`, 'b', q);
      assert.equal(setNew.status, 201);
      assert.equal(setNew.body, '{"action":"set"}\n');
      const update = await keys.set(key, 'c', { ...q, prevExist: 'true' });
      assert.equal(update.body, '{"action":"update"}\n');
      const cas = await keys.set(key, 'd', { ...q, prevValue: 'c' });
      assert.equal(cas.body, '{"action":"compareAndSwap"}\n');
      assertKeysError(await keys.set(key, 'e', { ...q, prevValue: 'c' }), { status: 412, errorCode: 101 });
      assert.equal(parseJsonBody(await keys.get(key)).node.value, 'd');
      const del = await keys.delete(key, q);
      assert.equal(del.status, 200);
      assert.equal(parseJsonBody(del).action, 'delete');
      assert.equal(parseJsonBody(del).prevNode.value, 'd');
    });

    test('HEAD answers the status and headers of GET without a body', async () => {
      const key = uniqueKey('head');
      await keys.set(key, 'v');
      const get = await keys.get(key);
      const head = await keys.head(key);
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assertSuccessHeaders(head, Number(header(get, 'x-etcd-index')));
      const missing = await keys.head(`${key}-missing`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body, '');
      assert.equal(header(missing, 'content-type'), 'application/json');
      assert.equal(header(missing, 'x-etcd-index'), header(get, 'x-etcd-index'));
      // Go's server gives a HEAD the Content-Length of the body a GET gets, when it is under 2 KiB.
      assert.equal(header(head, 'content-length'), String(Buffer.byteLength(get.body)));
      const missingGet = await keys.get(`${key}-missing`);
      assert.equal(header(missing, 'content-length'), String(Buffer.byteLength(missingGet.body)));
      const big = uniqueKey('head-big');
      await keys.set(big, 'x'.repeat(3000));
      const bigHead = await keys.head(big);
      assert.equal(bigHead.status, 200);
      assert.equal(header(bigHead, 'content-length'), undefined, 'a body past 2 KiB: no length, as from Go');
    });

    test('error responses carry X-Etcd-Index at the current index, a cluster id and no X-Raft headers', async () => {
      const key = uniqueKey('error-headers');
      const set = await keys.set(key, 'v');
      const index = Number(header(set, 'x-etcd-index'));
      const clusterId = header(set, 'x-etcd-cluster-id');
      const err = await keys.set(key, 'w', { prevExist: 'false' });
      assertKeysError(err, { status: 412, errorCode: 105, cause: key, index });
      assert.equal(header(err, 'x-etcd-cluster-id'), clusterId);
    });

    test('X-Deimos-Index equals X-Etcd-Index on writes, reads and errors', deimosOnly('X-Deimos-Index is a Deimos header'), async () => {
      const key = uniqueKey('deimos-index');
      for (const res of [await keys.set(key, 'v'), await keys.get(key), await keys.get(`${key}-no`), await keys.set(key, 'v', { ttl: 'x' })]) {
        assert.ok(header(res, 'x-deimos-index') !== undefined, 'X-Deimos-Index present');
        assert.equal(header(res, 'x-deimos-index'), header(res, 'x-etcd-index'));
      }
    });

    test('parameters in a form body win over the query string', async () => {
      const key = uniqueKey('form-wins');
      const res = await http('PUT', keys.url(key, { value: 'query' }), { form: { value: 'body' } });
      assert.equal(res.status, 201);
      assert.equal(parseJsonBody(res).node.value, 'body');
      const q = await keys.put(`${key}-q`, { value: 'from-query' });
      assert.equal(parseJsonBody(q).node.value, 'from-query');
    });

    test('a non-form body is ignored and the value is empty', async () => {
      const key = uniqueKey('json-body');
      const res = await http('PUT', keys.url(key), { body: '{"value":"x"}', headers: { 'Content-Type': 'application/json' } });
      assert.equal(res.status, 201);
      assert.equal(parseJsonBody(res).node.value, '');
    });

    test('GET takes parameters from the query string only, never from a body', async () => {
      const key = uniqueKey('get-body');
      await keys.set(`${key}/child`, 'c');
      const get = await http('GET', keys.url(key), { form: { recursive: 'maybe' } });
      assert.equal(get.status, 200, 'a bad parameter in a GET body is ignored');
    });

    // Deliberate difference from etcd (which ignores DELETE bodies): the original Deimos client sends
    // compare-and-delete conditions in a form body, and ignoring them turns its unlock into an
    // unconditional delete. Deimos honours them (the body wins over the query, as for PUT).
    test('DELETE reads compare conditions from a form body too', deimosOnly('etcd ignores DELETE bodies'), async () => {
      const key = uniqueKey('delete-body');
      await keys.set(key, 'v');
      const refused = await http('DELETE', keys.url(key), { form: { prevValue: 'not-v' } });
      assert.equal(refused.status, 412, refused.body);
      assert.equal(parseJsonBody(refused).errorCode, 101);
      const del = await http('DELETE', keys.url(key), { form: { prevValue: 'v' } });
      assert.equal(del.status, 200, del.body);
      assert.equal(parseJsonBody(del).action, 'compareAndDelete');
    });

    test('prevExist=false ignores prevValue and prevIndex', async () => {
      const key = uniqueKey('create-ignores-compare');
      const res = await keys.set(key, 'v', { prevExist: 'false', prevValue: 'other', prevIndex: '12345' });
      assert.equal(res.status, 201, res.body);
      assert.equal(parseJsonBody(res).action, 'create');
    });

    test('an update of a file with dir=true ignores the dir flag and sets the given or empty value', async () => {
      const key = uniqueKey('update-dir-flag');
      await keys.set(key, 'v');
      const res = await keys.put(key, { prevExist: 'true', dir: 'true' });
      assert.equal(res.status, 200, res.body);
      const body = parseJsonBody(res);
      assert.equal(body.action, 'update');
      assert.equal(body.node.value, '');
      assert.equal(body.node.dir, undefined);
    });

    test('a trailing slash is ignored and %2F nests keys', async () => {
      const key = uniqueKey('slash');
      const res = await keys.set(`${key}/`, 'v');
      assert.equal(res.status, 201);
      assert.equal(parseJsonBody(res).node.key, key);
      assert.equal(parseJsonBody(await keys.get(key)).node.value, 'v');
      const nested = await keys.set(`${key}-d%2Fchild`, 'n');
      assert.equal(nested.status, 201);
      assert.equal(parseJsonBody(nested).node.key, `${key}-d/child`);
      const dir = parseJsonBody(await keys.get(`${key}-d`));
      assert.equal(dir.node.dir, true);
      assert.equal(dir.node.nodes[0].key, `${key}-d/child`);
    });

    test('percent-encoded key names are decoded', async () => {
      const key = uniqueKey('decoded');
      const res = await keys.set(`${key}-a%20b%3Fc-%C3%A9`, 'v');
      assert.equal(res.status, 201);
      assert.equal(parseJsonBody(res).node.key, `${key}-a b?c-é`);
      assert.equal(parseJsonBody(await keys.get(`${key}-a%20b%3Fc-%C3%A9`)).node.value, 'v');
    });
  });
}

describe('keys path families', deimosOnly('the /keys path family does not exist in etcd'), () => {
  test('/keys and /v2/keys are the same keyspace', async () => {
    const v2 = new KeysClient(target.clientUrl, '/v2/keys');
    const v1 = new KeysClient(target.clientUrl, '/keys');
    const key = uniqueKey('families');
    const set = parseJsonBody(await v1.set(key, 'from-keys'));
    const got = parseJsonBody(await v2.get(key));
    assert.deepEqual(got.node, set.node);
    await v2.set(key, 'from-v2');
    assert.equal(parseJsonBody(await v1.get(key)).node.value, 'from-v2');
  });
});
