/**
 * Directories (spec §4-§5): creation, auto-created parents, listings (direct, recursive, sorted,
 * hidden keys), the root, paths through files, directory deletes, in-order keys and dir/file swaps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertKeysError, assertSuccessHeaders, ERROR_MESSAGES, header, KeysClient, parseJsonBody } from '../support/keys-client.js';
import { KeysTarget, PATH_FAMILIES, uniqueKey } from '../support/keys-target.js';

let target: KeysTarget;

before(async () => {
  target = await KeysTarget.start();
});

after(async () => {
  await target?.destroy();
});

/** Keys of a listing, in the order given. */
function childKeys(node: { nodes?: Array<{ key: string }> }): string[] {
  return (node.nodes ?? []).map((n) => n.key);
}

for (const family of PATH_FAMILIES) {
  describe(`directories on ${family.prefix}`, { skip: family.skip }, () => {
    let keys: KeysClient;
    before(() => {
      keys = new KeysClient(target.clientUrl, family.prefix);
    });

    test('dir=true creates a directory without a value, and an empty directory lists no nodes', async () => {
      const dir = uniqueKey('mkdir');
      const before = await keys.index();
      const res = await keys.put(dir, { dir: 'true' });
      assert.equal(res.status, 201);
      assertSuccessHeaders(res, before + 1);
      assert.equal(res.body, `{"action":"set","node":{"key":"${dir}","dir":true,"modifiedIndex":${before + 1},"createdIndex":${before + 1}}}\n`);
      const get = await keys.get(dir);
      assert.equal(get.status, 200);
      assert.equal(get.body, `{"action":"get","node":{"key":"${dir}","dir":true,"modifiedIndex":${before + 1},"createdIndex":${before + 1}}}\n`);
    });

    test('a value given with dir=true is ignored', async () => {
      const dir = uniqueKey('mkdir-value');
      const res = await keys.put(dir, { dir: 'true' }, { value: 'ignored' });
      assert.equal(res.status, 201);
      const node = parseJsonBody(res).node;
      assert.equal(node.dir, true);
      assert.equal(node.value, undefined);
    });

    test('a write below missing directories creates them at the write index, and a directory keeps its modifiedIndex when children change', async () => {
      const top = uniqueKey('parents');
      const res = parseJsonBody(await keys.set(`${top}/a/b/leaf`, 'v'));
      const index = res.node.modifiedIndex;
      for (const dir of [top, `${top}/a`, `${top}/a/b`]) {
        const node = parseJsonBody(await keys.get(dir)).node;
        assert.equal(node.dir, true, dir);
        assert.equal(node.createdIndex, index, `${dir} createdIndex`);
        assert.equal(node.modifiedIndex, index, `${dir} modifiedIndex`);
      }
      await keys.set(`${top}/a/b/leaf`, 'w');
      await keys.set(`${top}/a/other`, 'x');
      await keys.delete(`${top}/a/other`);
      const node = parseJsonBody(await keys.get(`${top}/a`)).node;
      assert.equal(node.modifiedIndex, index);
      assert.equal(node.createdIndex, index);
    });

    test('a directory listing shows direct children only, child directories without their nodes', async () => {
      const top = uniqueKey('list');
      await keys.set(`${top}/f1`, 'one');
      await keys.set(`${top}/sub/f2`, 'two');
      const sub = parseJsonBody(await keys.get(`${top}/sub`)).node;
      const res = await keys.get(top);
      assert.equal(res.status, 200);
      assertSuccessHeaders(res);
      const node = parseJsonBody(res).node;
      assert.equal(node.key, top);
      assert.equal(node.dir, true);
      const byKey = new Map<string, any>(node.nodes.map((n: any) => [n.key, n]));
      assert.equal(byKey.size, 2);
      assert.deepEqual(byKey.get(`${top}/sub`), { key: `${top}/sub`, dir: true, modifiedIndex: sub.modifiedIndex, createdIndex: sub.createdIndex });
      assert.equal(byKey.get(`${top}/f1`).value, 'one');
    });

    test('recursive=true expands every level and sorted=true orders every level by key', async () => {
      const top = uniqueKey('tree');
      for (const k of ['c', 'a/z', 'a/b/y', 'a/b/x', 'b', 'a/a']) await keys.set(`${top}/${k}`, k);
      const res = parseJsonBody(await keys.get(top, { recursive: 'true', sorted: 'true' }));
      assert.deepEqual(childKeys(res.node), [`${top}/a`, `${top}/b`, `${top}/c`]);
      const a = res.node.nodes[0];
      assert.deepEqual(childKeys(a), [`${top}/a/a`, `${top}/a/b`, `${top}/a/z`]);
      assert.deepEqual(childKeys(a.nodes[1]), [`${top}/a/b/x`, `${top}/a/b/y`]);
      assert.equal(a.nodes[1].nodes[0].value, 'a/b/x');
      const flatSorted = parseJsonBody(await keys.get(top, { sorted: 'true' }));
      assert.deepEqual(childKeys(flatSorted.node), [`${top}/a`, `${top}/b`, `${top}/c`]);
      assert.equal(flatSorted.node.nodes[0].nodes, undefined);
      const recursive = parseJsonBody(await keys.get(top, { recursive: 'true' }));
      assert.deepEqual(childKeys(recursive.node).sort(), [`${top}/a`, `${top}/b`, `${top}/c`]);
      const ra = recursive.node.nodes.find((n: any) => n.key === `${top}/a`);
      assert.equal(ra.nodes.length, 3);
    });

    test('recursive=true on a file returns the file', async () => {
      const key = uniqueKey('recursive-file');
      await keys.set(key, 'v');
      const node = parseJsonBody(await keys.get(key, { recursive: 'true' })).node;
      assert.deepEqual([node.key, node.value, node.nodes], [key, 'v', undefined]);
    });

    test('hidden keys are left out of listings, recursive ones too, but can be read, written and deleted directly', async () => {
      const top = uniqueKey('hidden');
      await keys.set(`${top}/_secret`, 's');
      await keys.set(`${top}/visible`, 'v');
      await keys.set(`${top}/_hdir/inner`, 'i');
      await keys.set(`${top}/sub/_deep`, 'd');
      for (const q of [{}, { recursive: 'true' }, { recursive: 'true', sorted: 'true' }] as Array<Record<string, string>>) {
        const node = parseJsonBody(await keys.get(top, q)).node;
        assert.deepEqual(childKeys(node).sort(), [`${top}/sub`, `${top}/visible`], `listing with ${JSON.stringify(q)}`);
        if ('recursive' in q) {
          const sub = node.nodes.find((n: any) => n.key === `${top}/sub`);
          assert.equal(sub.nodes, undefined, 'a directory whose only child is hidden lists no nodes');
        }
      }
      assert.equal(parseJsonBody(await keys.get(`${top}/_secret`)).node.value, 's');
      assert.equal(parseJsonBody(await keys.get(`${top}/_hdir/inner`)).node.value, 'i');
      assert.deepEqual(childKeys(parseJsonBody(await keys.get(`${top}/_hdir`)).node), [`${top}/_hdir/inner`]);
      const upd = await keys.set(`${top}/_secret`, 't', { prevExist: 'true' });
      assert.equal(parseJsonBody(upd).action, 'update');
      const del = await keys.delete(`${top}/_secret`);
      assert.equal(del.status, 200);
    });

    test('a root GET is a directory without key or indexes, with or without the trailing slash', async () => {
      await keys.set(uniqueKey('rooted'), 'x');
      for (const path of ['', '/']) {
        const res = await keys.get(path);
        assert.equal(res.status, 200);
        assertSuccessHeaders(res);
        const body = parseJsonBody(res);
        assert.deepEqual(Object.keys(body), ['action', 'node']);
        assert.equal(body.action, 'get');
        assert.deepEqual(Object.keys(body.node), ['dir', 'nodes']);
        assert.equal(body.node.dir, true);
        assert.ok(Array.isArray(body.node.nodes));
        assert.ok(body.node.nodes.every((n: any) => !n.key.split('/').pop().startsWith('_')), 'no hidden keys at the root');
      }
    });

    test('the root is read only for PUT and DELETE, whatever the flags', async () => {
      const index = await keys.index();
      const cases = [
        keys.put('', {}, { value: 'x' }),
        keys.put('/', {}, { value: 'x' }),
        keys.put('/', { dir: 'true' }),
        keys.put('/', { prevExist: 'true' }),
        keys.put('/', { prevValue: 'x' }),
        keys.delete('/'),
        keys.delete('', { recursive: 'true' }),
        keys.delete('/', { dir: 'true' }),
      ];
      for (const res of await Promise.all(cases)) {
        assertKeysError(res, { status: 400, errorCode: 107, message: ERROR_MESSAGES[107], cause: '/', index });
      }
      // A conditional delete compares first: the root is a directory (etcd 3.4's answer, no cause).
      const conditions: Array<Record<string, string>> = [{ prevValue: 'x' }, { prevIndex: '1' }, { prevIndex: '1', recursive: 'true' }];
      for (const query of conditions) {
        assertKeysError(await keys.delete('/', query), { status: 403, errorCode: 102, message: ERROR_MESSAGES[102], cause: null, index });
      }
    });

    test('a path through a file fails with 400/104 naming the file, for GET, PUT, POST and DELETE', async () => {
      const file = uniqueKey('through-file');
      const set = parseJsonBody(await keys.set(file, 'v'));
      const index = set.node.modifiedIndex;
      const expected = { status: 400, errorCode: 104, message: ERROR_MESSAGES[104], cause: file, index };
      assertKeysError(await keys.get(`${file}/child`), expected);
      assertKeysError(await keys.get(`${file}/child/grandchild`), expected);
      assertKeysError(await keys.set(`${file}/child`, 'x'), expected);
      assertKeysError(await keys.put(`${file}/child`, { dir: 'true' }), expected);
      assertKeysError(await keys.set(`${file}/child`, 'x', { prevExist: 'false' }), expected);
      assertKeysError(await keys.post(`${file}/child`, {}, { value: 'x' }), expected);
      assertKeysError(await keys.delete(`${file}/child`), expected);
      assertKeysError(await keys.post(file, {}, { value: 'x' }), expected);
    });

    test('a missing intermediate directory fails with 404/100 naming the first missing component', async () => {
      const top = uniqueKey('gap');
      await keys.put(top, { dir: 'true' });
      const index = await keys.index();
      assertKeysError(await keys.get(`${top}/nope/a/b`), { status: 404, errorCode: 100, cause: `${top}/nope`, index });
      assertKeysError(await keys.delete(`${top}/nope/a/b`), { status: 404, errorCode: 100, cause: `${top}/nope`, index });
      assertKeysError(await keys.delete(`${top}/nope/a`, { recursive: 'true' }), { status: 404, errorCode: 100, cause: `${top}/nope`, index });
      const missingTop = uniqueKey('gap-top');
      assertKeysError(await keys.get(`${missingTop}/a/b`), { status: 404, errorCode: 100, cause: missingTop, index });
    });

    test('deleting a directory needs dir=true when empty and recursive=true when not', async () => {
      const top = uniqueKey('rmdir');
      const empty = parseJsonBody(await keys.put(`${top}/empty`, { dir: 'true' })).node;
      await keys.set(`${top}/full/child`, 'c');
      const index = await keys.index();
      assertKeysError(await keys.delete(`${top}/empty`), { status: 403, errorCode: 102, message: ERROR_MESSAGES[102], cause: `${top}/empty`, index });
      assertKeysError(await keys.delete(`${top}/full`), { status: 403, errorCode: 102, cause: `${top}/full`, index });
      assertKeysError(await keys.delete(`${top}/full`, { dir: 'true' }), { status: 403, errorCode: 108, message: ERROR_MESSAGES[108], cause: `${top}/full`, index });
      const res = await keys.delete(`${top}/empty`, { dir: 'true' });
      assert.equal(res.status, 200);
      assertSuccessHeaders(res, index + 1);
      assert.deepEqual(parseJsonBody(res), {
        action: 'delete',
        node: { key: `${top}/empty`, dir: true, modifiedIndex: index + 1, createdIndex: empty.createdIndex },
        prevNode: { key: `${top}/empty`, dir: true, modifiedIndex: empty.modifiedIndex, createdIndex: empty.createdIndex },
      });
      const file = await keys.delete(`${top}/full/child`, { dir: 'true' });
      assert.equal(file.status, 200, 'dir=true also deletes a file');
    });

    test('recursive=true deletes a whole subtree as one event', async () => {
      const top = uniqueKey('rm-r');
      const created = parseJsonBody(await keys.set(`${top}/a/b/c`, 'v')).node;
      await keys.set(`${top}/d`, 'w');
      const before = await keys.index();
      const res = await keys.delete(top, { recursive: 'true' });
      assert.equal(res.status, 200);
      assertSuccessHeaders(res, before + 1);
      const body = parseJsonBody(res);
      assert.equal(body.action, 'delete');
      assert.deepEqual(body.node, { key: top, dir: true, modifiedIndex: before + 1, createdIndex: created.createdIndex });
      assert.equal(body.prevNode.key, top);
      assert.equal(body.prevNode.dir, true);
      assert.equal(body.prevNode.nodes, undefined, 'prevNode is not recursive');
      assert.equal(await keys.index(), before + 1, 'one event for the subtree');
      assertKeysError(await keys.get(`${top}/a/b/c`), { status: 404, errorCode: 100, cause: top });
      const file = uniqueKey('rm-r-file');
      await keys.set(file, 'x');
      assert.equal((await keys.delete(file, { recursive: 'true' })).status, 200, 'recursive=true also deletes a file');
    });

    test('compare-and-delete and compare-and-swap on a directory fail with 403/102', async () => {
      const dir = uniqueKey('cad-dir');
      const node = parseJsonBody(await keys.put(dir, { dir: 'true' })).node;
      assertKeysError(await keys.delete(dir, { prevIndex: String(node.modifiedIndex) }), { status: 403, errorCode: 102, cause: dir });
      assertKeysError(await keys.delete(dir, { prevValue: 'x', recursive: 'true' }), { status: 403, errorCode: 102, cause: dir });
      assertKeysError(await keys.set(dir, 'x', { prevValue: 'y' }), { status: 403, errorCode: 102, cause: dir });
      assertKeysError(await keys.set(dir, 'x', { prevIndex: String(node.modifiedIndex) }), { status: 403, errorCode: 102, cause: dir });
    });

    test('POST creates in-order keys named by the zero-padded index, increasing', async () => {
      const queue = uniqueKey('queue');
      const names: string[] = [];
      for (const value of ['first', 'second', 'third']) {
        const before = await keys.index();
        const res = await keys.post(queue, {}, { value });
        assert.equal(res.status, 201);
        assertSuccessHeaders(res, before + 1);
        const body = parseJsonBody(res);
        assert.equal(body.action, 'create');
        assert.equal(body.prevNode, undefined);
        const name = body.node.key.slice(queue.length + 1);
        assert.match(name, /^\d{20}$/);
        assert.equal(Number(name), before + 1, 'the name is the new index');
        assert.deepEqual(body.node, { key: `${queue}/${name}`, value, modifiedIndex: before + 1, createdIndex: before + 1 });
        names.push(name);
      }
      assert.deepEqual([...names].sort(), names);
      const listed = parseJsonBody(await keys.get(queue, { sorted: 'true' })).node;
      assert.deepEqual(listed.nodes.map((n: any) => n.value), ['first', 'second', 'third']);
    });

    test('POST on the root creates a zero-padded key at the top level', async () => {
      const before = await keys.index();
      const res = await keys.post('', {}, { value: 'top' });
      assert.equal(res.status, 201, res.body);
      const node = parseJsonBody(res).node;
      assert.equal(node.key, `/${String(before + 1).padStart(20, '0')}`);
      assert.equal((await keys.delete(node.key)).status, 200);
    });

    test('POST honours dir=true and defaults the value to empty, ignoring prevExist and prevValue', async () => {
      const queue = uniqueKey('queue-opts');
      const dir = parseJsonBody(await keys.post(queue, { dir: 'true' })).node;
      assert.equal(dir.dir, true);
      assert.equal(dir.value, undefined);
      const empty = await keys.post(queue, { prevExist: 'true', prevValue: 'nothing' });
      assert.equal(empty.status, 201);
      assert.equal(parseJsonBody(empty).node.value, '');
    });

    test('dir=true over a file replaces it with an empty directory, but over a directory fails with 403/102', async () => {
      const key = uniqueKey('file-to-dir');
      const file = parseJsonBody(await keys.set(key, 'was-a-file')).node;
      const res = await keys.put(key, { dir: 'true' });
      assert.equal(res.status, 200);
      const body = parseJsonBody(res);
      assert.equal(body.action, 'set');
      assert.deepEqual(body.node, { key, dir: true, modifiedIndex: file.modifiedIndex + 1, createdIndex: file.modifiedIndex + 1 });
      assert.deepEqual(body.prevNode, { key, value: 'was-a-file', modifiedIndex: file.modifiedIndex, createdIndex: file.createdIndex });
      const index = file.modifiedIndex + 1;
      assertKeysError(await keys.put(key, { dir: 'true' }), { status: 403, errorCode: 102, cause: key, index });
      assertKeysError(await keys.set(key, 'file-over-dir'), { status: 403, errorCode: 102, cause: key, index });
      assertKeysError(await keys.put(key, { dir: 'true', prevExist: 'false' }), { status: 412, errorCode: 105, cause: key, index });
    });

    test('updating a directory works with an empty value and fails with 403/102 when a value is given', async () => {
      const dir = uniqueKey('update-dir');
      const node = parseJsonBody(await keys.put(dir, { dir: 'true', ttl: '100' })).node;
      assert.equal(node.ttl, 100);
      assertKeysError(await keys.set(dir, 'x', { prevExist: 'true' }), { status: 403, errorCode: 102, cause: dir });
      const res = await keys.put(dir, { prevExist: 'true', dir: 'true' });
      assert.equal(res.status, 200);
      const body = parseJsonBody(res);
      assert.equal(body.action, 'update');
      assert.deepEqual(body.node, { key: dir, dir: true, modifiedIndex: node.modifiedIndex + 1, createdIndex: node.createdIndex });
      assert.equal(body.prevNode.ttl, 100);
      assert.equal(header(res, 'x-etcd-index'), String(node.modifiedIndex + 1));
      // Only the event shows the new index: the directory keeps its own (etcd 3.4's store).
      const read = parseJsonBody(await keys.get(dir)).node;
      assert.deepEqual([read.modifiedIndex, read.createdIndex], [node.modifiedIndex, node.createdIndex]);
      const again = parseJsonBody(await keys.put(dir, { prevExist: 'true', dir: 'true', ttl: '50' }));
      assert.deepEqual([again.node.modifiedIndex, again.prevNode.modifiedIndex], [node.modifiedIndex + 2, node.modifiedIndex]);
    });
  });
}
