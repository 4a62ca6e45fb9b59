import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventJSON } from '@deimos/protocol';
import type { Store, StoreEvent } from '../../src/store/index.js';
import { T0, expectError, json, newStore } from './support.js';

interface Case {
  readonly title: string;
  readonly setup?: (s: Store) => void;
  readonly run: (s: Store) => StoreEvent;
  readonly want: EventJSON | { errorCode: number; cause: string };
}

function runTable(cases: readonly Case[]): void {
  for (const c of cases) {
    test(c.title, () => {
      const { store } = newStore();
      c.setup?.(store);
      const before = store.index;
      if ('errorCode' in c.want) {
        expectError(() => c.run(store), c.want.errorCode, c.want.cause, before);
        assert.equal(store.index, before, 'a failed write must not advance the index');
      } else {
        assert.deepEqual(json(c.run(store)), c.want);
        assert.equal(store.index, before + 1, 'a write advances the index by one');
      }
    });
  }
}

const file = (s: Store, path = '/foo', value = 'bar') => s.set(path, { value }, T0);
const dir = (s: Store, path = '/dir') => s.set(path, { dir: true }, T0);
const EXP5 = '2026-11-26T08:20:12.78Z';

runTable([
  { title: 'set creates a missing file', run: (s) => file(s),
    want: { action: 'set', node: { key: '/foo', value: 'bar', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set over a file replaces the node and resets createdIndex', setup: (s) => file(s),
    run: (s) => s.set('/foo', { value: 'baz' }, T0),
    want: { action: 'set', node: { key: '/foo', value: 'baz', modifiedIndex: 2, createdIndex: 2 },
      prevNode: { key: '/foo', value: 'bar', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set without a value stores an empty value', run: (s) => s.set('/e', {}, T0),
    want: { action: 'set', node: { key: '/e', value: '', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set dir=true creates an empty directory', run: (s) => s.set('/d', { dir: true, value: 'ignored' }, T0),
    want: { action: 'set', node: { key: '/d', dir: true, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set dir=true over a file replaces it with a directory', setup: (s) => file(s),
    run: (s) => s.set('/foo', { dir: true }, T0),
    want: { action: 'set', node: { key: '/foo', dir: true, modifiedIndex: 2, createdIndex: 2 },
      prevNode: { key: '/foo', value: 'bar', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set dir=true over a directory fails with 102', setup: (s) => dir(s),
    run: (s) => s.set('/dir', { dir: true }, T0), want: { errorCode: 102, cause: '/dir' } },
  { title: 'set of a value over a directory fails with 102', setup: (s) => dir(s),
    run: (s) => s.set('/dir', { value: 'x' }, T0), want: { errorCode: 102, cause: '/dir' } },
  { title: 'set below a file fails with 104 naming the file', setup: (s) => file(s),
    run: (s) => s.set('/foo/bar/baz', { value: 'x' }, T0), want: { errorCode: 104, cause: '/foo' } },
  { title: 'set on the root fails with 107', run: (s) => s.set('/', { value: 'x' }, T0),
    want: { errorCode: 107, cause: '/' } },
  { title: 'set with a ttl shows expiration and ttl', run: (s) => s.set('/t', { value: 'v', ttlSeconds: 5 }, T0),
    want: { action: 'set', node: { key: '/t', value: 'v', expiration: EXP5, ttl: 5, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set without a ttl makes a ttl key permanent', setup: (s) => s.set('/t', { value: 'v', ttlSeconds: 5 }, T0),
    run: (s) => s.set('/t', { value: 'w' }, T0 + 1000),
    // The prevNode's ttl is what the key had left when the event happened (T0 + 1 s), as etcd shows it.
    want: { action: 'set', node: { key: '/t', value: 'w', modifiedIndex: 2, createdIndex: 2 },
      prevNode: { key: '/t', value: 'v', expiration: EXP5, ttl: 4, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set with refresh keeps the value but resets createdIndex', setup: (s) => s.set('/t', { value: 'v', ttlSeconds: 5 }, T0),
    run: (s) => s.set('/t', { refresh: true, ttlSeconds: 5 }, T0),
    want: { action: 'set', node: { key: '/t', value: 'v', expiration: EXP5, ttl: 5, modifiedIndex: 2, createdIndex: 2 },
      prevNode: { key: '/t', value: 'v', expiration: EXP5, ttl: 5, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'set with refresh of a missing key fails with 100', run: (s) => s.set('/nope/x', { refresh: true, ttlSeconds: 5 }, T0),
    want: { errorCode: 100, cause: '/nope' } },

  { title: 'create makes a new file without prevNode', run: (s) => s.create('/c', { value: 'v' }, T0),
    want: { action: 'create', node: { key: '/c', value: 'v', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'create makes a directory', run: (s) => s.create('/c', { dir: true, ttlSeconds: 5 }, T0),
    want: { action: 'create', node: { key: '/c', dir: true, expiration: EXP5, ttl: 5, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'create of an existing file fails with 105', setup: (s) => file(s),
    run: (s) => s.create('/foo', { value: 'x' }, T0), want: { errorCode: 105, cause: '/foo' } },
  { title: 'create of an existing dir fails with 105', setup: (s) => dir(s),
    run: (s) => s.create('/dir', { dir: true }, T0), want: { errorCode: 105, cause: '/dir' } },
  { title: 'create on the root fails with 107', run: (s) => s.create('/', { dir: true }, T0),
    want: { errorCode: 107, cause: '/' } },
  { title: 'in-order create names the child after the new index, 20 digits', setup: (s) => file(s, '/other'),
    run: (s) => s.create('/q', { value: 'job', unique: true }, T0),
    want: { action: 'create', node: { key: '/q/00000000000000000002', value: 'job', modifiedIndex: 2, createdIndex: 2 } } },
  { title: 'in-order create on the root puts the child at the top', run: (s) => s.create('/', { unique: true }, T0),
    want: { action: 'create', node: { key: '/00000000000000000001', value: '', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'in-order create honours dir and ttl', run: (s) => s.create('/q', { unique: true, dir: true, ttlSeconds: 5 }, T0),
    want: { action: 'create', node: { key: '/q/00000000000000000001', dir: true, expiration: EXP5, ttl: 5, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'in-order create on a file fails with 104', setup: (s) => file(s),
    run: (s) => s.create('/foo', { unique: true }, T0), want: { errorCode: 104, cause: '/foo' } },

  { title: 'update of a missing key fails with 100', run: (s) => s.update('/nope', { value: 'x' }, T0),
    want: { errorCode: 100, cause: '/nope' } },
  { title: 'update below a missing dir names the first missing component', run: (s) => s.update('/a/b/c', { value: 'x' }, T0),
    want: { errorCode: 100, cause: '/a' } },
  { title: 'update keeps createdIndex and drops the ttl when none is given', setup: (s) => s.set('/t', { value: 'v', ttlSeconds: 5 }, T0),
    run: (s) => s.update('/t', { value: 'w' }, T0),
    want: { action: 'update', node: { key: '/t', value: 'w', modifiedIndex: 2, createdIndex: 1 },
      prevNode: { key: '/t', value: 'v', expiration: EXP5, ttl: 5, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'update of a dir with an empty value changes its ttl', setup: (s) => dir(s),
    run: (s) => s.update('/dir', { ttlSeconds: 5 }, T0),
    want: { action: 'update', node: { key: '/dir', dir: true, expiration: EXP5, ttl: 5, modifiedIndex: 2, createdIndex: 1 },
      prevNode: { key: '/dir', dir: true, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'update of a dir with a value fails with 102', setup: (s) => dir(s),
    run: (s) => s.update('/dir', { value: 'x' }, T0), want: { errorCode: 102, cause: '/dir' } },
  { title: 'update with refresh keeps the value and createdIndex', setup: (s) => s.set('/t', { value: 'v', ttlSeconds: 1 }, T0),
    run: (s) => s.update('/t', { refresh: true, ttlSeconds: 5 }, T0),
    want: { action: 'update', node: { key: '/t', value: 'v', expiration: EXP5, ttl: 5, modifiedIndex: 2, createdIndex: 1 },
      prevNode: { key: '/t', value: 'v', expiration: '2026-11-26T08:20:08.78Z', ttl: 1, modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'update on the root fails with 107', run: (s) => s.update('/', {}, T0), want: { errorCode: 107, cause: '/' } },

  { title: 'compareAndSwap succeeds when the value matches', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevValue: 'bar', value: 'baz' }, T0),
    want: { action: 'compareAndSwap', node: { key: '/foo', value: 'baz', modifiedIndex: 2, createdIndex: 1 },
      prevNode: { key: '/foo', value: 'bar', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'compareAndSwap succeeds when both conditions match', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevValue: 'bar', prevIndex: 1, value: 'baz', ttlSeconds: 5 }, T0),
    want: { action: 'compareAndSwap', node: { key: '/foo', value: 'baz', expiration: EXP5, ttl: 5, modifiedIndex: 2, createdIndex: 1 },
      prevNode: { key: '/foo', value: 'bar', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'compareAndSwap on a value mismatch fails with 101 [given != current]', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevValue: 'nope', value: 'x' }, T0), want: { errorCode: 101, cause: '[nope != bar]' } },
  { title: 'compareAndSwap on an index mismatch fails with 101 [given != modifiedIndex]', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevIndex: 7, value: 'x' }, T0), want: { errorCode: 101, cause: '[7 != 1]' } },
  { title: 'compareAndSwap on a double mismatch names both', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevValue: 'nope', prevIndex: 7, value: 'x' }, T0),
    want: { errorCode: 101, cause: '[nope != bar] [7 != 1]' } },
  { title: 'compareAndSwap fails when only one of two conditions matches', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevValue: 'bar', prevIndex: 7, value: 'x' }, T0), want: { errorCode: 101, cause: '[7 != 1]' } },
  { title: 'compareAndSwap of a missing key fails with 100 before comparing',
    run: (s) => s.compareAndSwap('/nope', { prevValue: 'x', value: 'y' }, T0), want: { errorCode: 100, cause: '/nope' } },
  { title: 'compareAndSwap of a dir fails with 102', setup: (s) => dir(s),
    run: (s) => s.compareAndSwap('/dir', { prevIndex: 1, value: 'y' }, T0), want: { errorCode: 102, cause: '/dir' } },
  { title: 'compareAndSwap with refresh keeps the value', setup: (s) => file(s),
    run: (s) => s.compareAndSwap('/foo', { prevValue: 'bar', refresh: true, ttlSeconds: 5 }, T0),
    want: { action: 'compareAndSwap', node: { key: '/foo', value: 'bar', expiration: EXP5, ttl: 5, modifiedIndex: 2, createdIndex: 1 },
      prevNode: { key: '/foo', value: 'bar', modifiedIndex: 1, createdIndex: 1 } } },
  { title: 'compareAndSwap on the root fails with 107', run: (s) => s.compareAndSwap('/', { prevValue: 'x' }, T0),
    want: { errorCode: 107, cause: '/' } },
]);

test('parents created by a write get the write index and dirs keep their modifiedIndex', () => {
  const { store } = newStore();
  store.set('/x', { value: '1' }, T0);
  store.set('/a/b/c', { value: 'v' }, T0);
  store.set('/a/b/d', { value: 'w' }, T0);
  const a = store.get('/a', {}, T0).event.node;
  assert.deepEqual(a, { key: '/a', dir: true, nodes: [{ key: '/a/b', dir: true, modifiedIndex: 2, createdIndex: 2 }], modifiedIndex: 2, createdIndex: 2 });
});

test('a dir keeps its modifiedIndex through an update, which only its event shows (etcd 3.4)', () => {
  const { store } = newStore();
  store.set('/dir', { dir: true }, T0); // 1
  assert.equal(json(store.update('/dir', { ttlSeconds: 100 }, T0)).node?.modifiedIndex, 2);
  assert.equal(store.get('/dir', {}, T0).event.node?.modifiedIndex, 1);
  const again = json(store.update('/dir', { refresh: true, ttlSeconds: 50 }, T0));
  assert.deepEqual([again.node?.modifiedIndex, again.prevNode?.modifiedIndex, again.prevNode?.ttl], [3, 1, 100]);
  assert.equal(store.index, 3);
});

test('a failed create below an existing key leaves no auto-created parents', () => {
  const { store } = newStore();
  store.set('/f', { value: 'v' }, T0);
  expectError(() => store.create('/f/x/y', { value: 'v' }, T0), 104, '/f', 1);
  expectError(() => store.get('/f/x', {}, T0), 104, '/f', 1);
});

test('the store counts successes and failures per operation', () => {
  const { store } = newStore();
  store.set('/a', { value: '1' }, T0);
  assert.throws(() => store.set('/', { value: '1' }, T0));
  store.create('/b', {}, T0);
  assert.throws(() => store.create('/b', {}, T0));
  store.update('/a', { value: '2' }, T0);
  assert.throws(() => store.update('/z', {}, T0));
  store.compareAndSwap('/a', { prevValue: '2', value: '3' }, T0);
  assert.throws(() => store.compareAndSwap('/a', { prevValue: '2' }, T0));
  store.get('/a', {}, T0);
  assert.throws(() => store.get('/zz', {}, T0));
  store.compareAndDelete('/a', { prevValue: '3' });
  assert.throws(() => store.compareAndDelete('/b', { prevValue: 'x' }));
  store.delete('/b', {});
  assert.throws(() => store.delete('/b', {}));
  assert.deepEqual(store.stats, {
    getsSuccess: 1, getsFail: 1, setsSuccess: 1, setsFail: 1, deleteSuccess: 1, deleteFail: 1,
    updateSuccess: 1, updateFail: 1, createSuccess: 1, createFail: 1, compareAndSwapSuccess: 1,
    compareAndSwapFail: 1, compareAndDeleteSuccess: 1, compareAndDeleteFail: 1, expireCount: 0, watchers: 0,
  });
  assert.deepEqual(Object.keys(store.stats), [
    'getsSuccess', 'getsFail', 'setsSuccess', 'setsFail', 'deleteSuccess', 'deleteFail', 'updateSuccess', 'updateFail',
    'createSuccess', 'createFail', 'compareAndSwapSuccess', 'compareAndSwapFail', 'compareAndDeleteSuccess',
    'compareAndDeleteFail', 'expireCount', 'watchers',
  ]);
});

test('an unclean path is an invariant violation, not a wire error', () => {
  const { store } = newStore();
  for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/a/./b', '/a/..']) {
    assert.throws(() => store.set(bad, { value: 'x' }, T0), (err: unknown) => err instanceof assert.AssertionError);
  }
});
