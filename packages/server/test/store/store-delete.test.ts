import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/index.js';
import { T0, expectError, json, newStore } from './support.js';

/** /f (file, index 1), /empty (dir, 2), /full/x (dir 3 with a file 3). */
function fixture(): Store {
  const { store } = newStore();
  store.set('/f', { value: 'v' }, T0);
  store.set('/empty', { dir: true }, T0);
  store.set('/full/x', { value: 'x' }, T0);
  return store;
}

const cases: { title: string; path: string; options: { dir?: boolean; recursive?: boolean }; error?: [number, string] }[] = [
  { title: 'delete of a missing key fails with 100', path: '/nope', options: {}, error: [100, '/nope'] },
  { title: 'delete below a missing dir names the first missing component', path: '/nope/a/b', options: { recursive: true }, error: [100, '/nope'] },
  { title: 'delete below a file fails with 104 naming the file', path: '/f/x', options: {}, error: [104, '/f'] },
  { title: 'delete of the root fails with 107', path: '/', options: { recursive: true }, error: [107, '/'] },
  { title: 'delete of an empty dir without dir fails with 102', path: '/empty', options: {}, error: [102, '/empty'] },
  { title: 'delete of a full dir without flags fails with 102', path: '/full', options: {}, error: [102, '/full'] },
  { title: 'delete of a full dir with dir=true fails with 108', path: '/full', options: { dir: true }, error: [108, '/full'] },
  { title: 'delete of a file with dir=true deletes it', path: '/f', options: { dir: true } },
  { title: 'delete of an empty dir with dir=true deletes it', path: '/empty', options: { dir: true } },
  { title: 'delete of a full dir with recursive deletes the subtree', path: '/full', options: { recursive: true } },
];

for (const c of cases) {
  test(c.title, () => {
    const store = fixture();
    if (c.error !== undefined) {
      expectError(() => store.delete(c.path, c.options), c.error[0], c.error[1], 3);
      assert.equal(store.index, 3);
    } else {
      store.delete(c.path, c.options);
      assert.equal(store.index, 4);
      expectError(() => store.get(c.path, {}, T0), 100, c.path, 4);
    }
  });
}

test('delete of a file shows the node without value and the old node as prevNode', () => {
  const store = fixture();
  assert.deepEqual(json(store.delete('/f', {})), {
    action: 'delete',
    node: { key: '/f', modifiedIndex: 4, createdIndex: 1 },
    prevNode: { key: '/f', value: 'v', modifiedIndex: 1, createdIndex: 1 },
  });
});

test('a recursive delete is one event whose prevNode is the dir without children', () => {
  const store = fixture();
  assert.deepEqual(json(store.delete('/full', { recursive: true })), {
    action: 'delete',
    node: { key: '/full', dir: true, modifiedIndex: 4, createdIndex: 3 },
    prevNode: { key: '/full', dir: true, modifiedIndex: 3, createdIndex: 3 },
  });
  expectError(() => store.get('/full/x', {}, T0), 100, '/full', 4);
});

test('a dir holding only hidden keys is not empty', () => {
  const { store } = newStore();
  store.set('/d/_h', { value: 'v' }, T0);
  assert.deepEqual(store.get('/d', {}, T0).event.node, { key: '/d', dir: true, modifiedIndex: 1, createdIndex: 1 });
  expectError(() => store.delete('/d', { dir: true }), 108, '/d', 1);
});

test('compareAndDelete deletes a matching file', () => {
  const store = fixture();
  assert.deepEqual(json(store.compareAndDelete('/f', { prevValue: 'v', prevIndex: 1 })), {
    action: 'compareAndDelete',
    node: { key: '/f', modifiedIndex: 4, createdIndex: 1 },
    prevNode: { key: '/f', value: 'v', modifiedIndex: 1, createdIndex: 1 },
  });
});

test('compareAndDelete reports mismatches, dirs, missing keys and the root', () => {
  const store = fixture();
  expectError(() => store.compareAndDelete('/f', { prevValue: 'w' }), 101, '[w != v]', 3);
  expectError(() => store.compareAndDelete('/f', { prevIndex: 2 }), 101, '[2 != 1]', 3);
  const huge = { prevValue: 'w', prevIndex: 18446744073709551615, prevIndexText: '18446744073709551615' };
  expectError(() => store.compareAndDelete('/f', huge), 101, '[w != v] [18446744073709551615 != 1]', 3);
  expectError(() => store.compareAndDelete('/f', { prevValue: 'w', prevIndex: 2 }), 101, '[w != v] [2 != 1]', 3);
  expectError(() => store.compareAndDelete('/empty', { prevIndex: 2 }), 102, '/empty', 3);
  expectError(() => store.compareAndDelete('/nope', { prevIndex: 2 }), 100, '/nope', 3);
  // As etcd 3.4 answers: the root is compared (a directory) before it is found read-only.
  expectError(() => store.compareAndDelete('/', { prevIndex: 2 }), 102, '', 3);
  assert.equal(store.index, 3);
});

test('an empty prevValue and a zero prevIndex are no conditions', () => {
  const store = fixture();
  assert.equal(store.compareAndDelete('/f', { prevValue: '', prevIndex: 0 }).action, 'compareAndDelete');
});
