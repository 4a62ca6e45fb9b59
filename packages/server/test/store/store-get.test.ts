import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/index.js';
import { T0, expectError, newStore } from './support.js';

/** /d/b (file 1), /d/a/x (dir 2, file 2), /d/_hidden (3), /d/a/_h (4), /d/e (empty dir 5), /top (6). */
function fixture(): Store {
  const { store } = newStore();
  store.set('/d/b', { value: 'B' }, T0);
  store.set('/d/a/x', { value: 'X' }, T0);
  store.set('/d/_hidden', { value: 'H' }, T0);
  store.set('/d/a/_h', { value: 'h' }, T0);
  store.set('/d/e', { dir: true }, T0);
  store.set('/top', { value: 'T' }, T0);
  return store;
}

test('get of a file returns its node and the current index', () => {
  const store = fixture();
  assert.deepEqual(store.get('/d/b', {}, T0), {
    event: { action: 'get', node: { key: '/d/b', value: 'B', modifiedIndex: 1, createdIndex: 1 } },
    index: 6,
  });
});

test('get of a dir lists direct visible children, child dirs without nodes', () => {
  const store = fixture();
  assert.deepEqual(store.get('/d', {}, T0).event.node, {
    key: '/d', dir: true, nodes: [
      { key: '/d/b', value: 'B', modifiedIndex: 1, createdIndex: 1 },
      { key: '/d/a', dir: true, modifiedIndex: 2, createdIndex: 2 },
      { key: '/d/e', dir: true, modifiedIndex: 5, createdIndex: 5 },
    ], modifiedIndex: 1, createdIndex: 1,
  });
});

test('get recursive and sorted expands every level in key order, hiding hidden keys and empty nodes lists', () => {
  const store = fixture();
  assert.deepEqual(store.get('/d', { recursive: true, sorted: true }, T0).event.node, {
    key: '/d', dir: true, nodes: [
      { key: '/d/a', dir: true, nodes: [{ key: '/d/a/x', value: 'X', modifiedIndex: 2, createdIndex: 2 }], modifiedIndex: 2, createdIndex: 2 },
      { key: '/d/b', value: 'B', modifiedIndex: 1, createdIndex: 1 },
      { key: '/d/e', dir: true, modifiedIndex: 5, createdIndex: 5 },
    ], modifiedIndex: 1, createdIndex: 1,
  });
});

test('get of the root has no key and no indexes', () => {
  const store = fixture();
  assert.deepEqual(store.get('/', { sorted: true }, T0).event, {
    action: 'get',
    node: { dir: true, nodes: [
      { key: '/d', dir: true, modifiedIndex: 1, createdIndex: 1 },
      { key: '/top', value: 'T', modifiedIndex: 6, createdIndex: 6 },
    ] },
  });
  const { store: empty } = newStore();
  assert.deepEqual(empty.get('/', { recursive: true }, T0), { event: { action: 'get', node: { dir: true } }, index: 0 });
});

test('get recursive on a file returns the file', () => {
  const store = fixture();
  assert.deepEqual(store.get('/top', { recursive: true }, T0).event.node, { key: '/top', value: 'T', modifiedIndex: 6, createdIndex: 6 });
});

test('hidden keys are readable by their full path', () => {
  const store = fixture();
  assert.equal(store.get('/d/_hidden', {}, T0).event.node?.value, 'H');
});

test('get of a missing key names the first missing component; a file in the way gives 104', () => {
  const store = fixture();
  expectError(() => store.get('/nope/a/b', {}, T0), 100, '/nope', 6);
  expectError(() => store.get('/d/zz', {}, T0), 100, '/d/zz', 6);
  expectError(() => store.get('/top/a/b', {}, T0), 104, '/top', 6);
});

test('sorted order is by code point, as Go compares strings', () => {
  const { store } = newStore();
  for (const name of ['\u{1F600}', '\uFF21', 'b', 'B', 'a']) store.set(`/s/${name}`, { value: name }, T0);
  const keys = store.get('/s', { sorted: true }, T0).event.node?.nodes?.map((n) => n.key);
  assert.deepEqual(keys, ['/s/B', '/s/a', '/s/b', '/s/\uFF21', '/s/\u{1F600}']);
});
