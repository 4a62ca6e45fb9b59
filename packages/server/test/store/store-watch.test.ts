import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreEvent, Watcher } from '../../src/store/index.js';
import { T0, expectError, json, newStore } from './support.js';

const keys = (events: StoreEvent[]) => events.map((e) => `${e.action} ${e.node.key} ${e.index}`);

test('a one-shot watcher gets the next event on its key and then leaves the hub', () => {
  const { store } = newStore();
  store.set('/a', { value: '1' }, T0);
  const w = store.watch('/a', {});
  assert.equal(w.startIndex, 1);
  assert.equal(store.stats.watchers, 1);
  let wakes = 0;
  w.setListener(() => wakes++);
  store.set('/b', { value: 'x' }, T0);
  store.set('/a', { value: '2' }, T0);
  store.set('/a', { value: '3' }, T0);
  assert.equal(wakes, 1);
  assert.equal(w.closeReason, 'delivered');
  assert.deepEqual(json(w.take()[0]), {
    action: 'set', node: { key: '/a', value: '2', modifiedIndex: 3, createdIndex: 3 },
    prevNode: { key: '/a', value: '1', modifiedIndex: 1, createdIndex: 1 },
  });
  assert.equal(w.done, true);
  assert.equal(store.stats.watchers, 0);
});

test('a non-recursive watch on a dir sees the dir but not its children', () => {
  const { store } = newStore();
  store.set('/d/x', { value: '1' }, T0);
  const w = store.watch('/d', { stream: true });
  store.set('/d/x', { value: '2' }, T0);
  store.set('/d/y/z', { value: '2' }, T0);
  store.update('/d', { ttlSeconds: 5 }, T0);
  assert.deepEqual(keys(w.take()), ['update /d 4']);
});

test('a recursive watch sees descendants except below hidden segments', () => {
  const { store } = newStore();
  const w = store.watch('/d', { recursive: true, stream: true });
  const root = store.watch('/', { recursive: true, stream: true });
  store.set('/d/x', { value: '1' }, T0);
  store.set('/d/_h', { value: '1' }, T0);
  store.set('/d/_h2/deep', { value: '1' }, T0);
  store.set('/dd', { value: 'sibling with a common prefix' }, T0);
  store.set('/_top/d', { value: '1' }, T0);
  assert.deepEqual(keys(w.take()), ['set /d/x 1']);
  assert.deepEqual(keys(root.take()), ['set /d/x 1', 'set /dd 4']);
});

test('hidden keys can be watched directly, and a watch on a hidden dir sees its children', () => {
  const { store } = newStore();
  const direct = store.watch('/d/_h', {});
  const inside = store.watch('/_top', { recursive: true, stream: true });
  store.set('/d/_h', { value: '1' }, T0);
  store.set('/_top/x', { value: '1' }, T0);
  assert.deepEqual(keys(direct.take()), ['set /d/_h 1']);
  assert.deepEqual(keys(inside.take()), ['set /_top/x 2']);
});

test('watchers of paths a deleted dir held get the dir event, once; watchers of paths it never held wait on, as in etcd', () => {
  const { store } = newStore();
  store.set('/a/b/c', { value: '1' }, T0);
  store.set('/a/_h', { value: '1' }, T0);
  const held: Watcher[] = ['/a/b/c', '/a/b', '/a/_h', '/a'].map((p) => store.watch(p, { stream: true }));
  const recursive = store.watch('/a', { recursive: true, stream: true });
  const recursiveBelow = store.watch('/a/b', { recursive: true, stream: true });
  const never: Watcher[] = ['/a/nope', '/a/nope/deeper', '/a/b/c/under-a-file'].map((p) => store.watch(p, { stream: true }));
  const neverRecursive = store.watch('/a/b/nope', { recursive: true, stream: true });
  const other = store.watch('/ab', { stream: true });
  store.delete('/a', { recursive: true });
  for (const w of [...held, recursive, recursiveBelow]) assert.deepEqual(keys(w.take()), ['delete /a 3'], w.key);
  for (const w of [...never, neverRecursive, other]) assert.equal(w.pending, 0, w.key);
  // A history scan matches every path below a removed dir, as etcd's does.
  assert.deepEqual(keys(store.watch('/a/nope', { sinceIndex: 3 }).take()), ['delete /a 3']);
  assert.deepEqual(keys(store.watch('/a/x/y', { recursive: true, sinceIndex: 3 }).take()), ['delete /a 3']);
});

test('watchers inside an expired dir get the expire event when the dir held their path', () => {
  const { store } = newStore();
  store.set('/d', { dir: true, ttlSeconds: 1 }, T0);
  store.set('/d/k', { value: 'v' }, T0);
  const w = store.watch('/d/k', {});
  const never = store.watch('/d/none', {});
  store.deleteExpiredKeys(T0 + 1000);
  assert.deepEqual(keys(w.take()), ['expire /d 3']);
  assert.equal(never.pending, 0);
  assert.equal(never.closed, false);
});

test('an empty dir deleted without recursive wakes the watchers of the dir only', () => {
  const { store } = newStore();
  store.set('/e', { dir: true }, T0);
  const onDir = store.watch('/e', {});
  const below = store.watch('/e/x', { recursive: true });
  store.delete('/e', { dir: true });
  assert.deepEqual(keys(onDir.take()), ['delete /e 2']);
  assert.equal(below.pending, 0);
});

test('refreshes never wake live watchers', () => {
  const { store } = newStore();
  store.set('/r', { value: 'v', ttlSeconds: 5 }, T0);
  const w = store.watch('/r', {});
  const rec = store.watch('/', { recursive: true, stream: true });
  store.update('/r', { refresh: true, ttlSeconds: 5 }, T0);
  store.set('/r', { refresh: true, ttlSeconds: 5 }, T0);
  store.compareAndSwap('/r', { prevValue: 'v', refresh: true, ttlSeconds: 5 }, T0);
  assert.equal(w.pending + rec.pending, 0);
  store.update('/r', { value: 'w' }, T0);
  assert.deepEqual(keys(w.take()), ['update /r 5']);
});

test('a sinceIndex watch returns the first matching non-refresh event from history at once', () => {
  const { store } = newStore();
  store.set('/a', { value: '1', ttlSeconds: 5 }, T0); // 1
  store.set('/b', { value: '1' }, T0); // 2
  store.update('/a', { refresh: true, ttlSeconds: 5 }, T0); // 3 (refresh, skipped)
  store.set('/a', { value: '2' }, T0); // 4
  const w = store.watch('/a', { sinceIndex: 2 });
  assert.equal(w.closed, true);
  assert.deepEqual(keys(w.take()), ['set /a 4']);
  assert.equal(w.startIndex, 4);
  assert.equal(store.stats.watchers, 0);
});

test('a history scan returns hidden-key events to recursive watchers', () => {
  const { store } = newStore();
  store.set('/d/_h', { value: '1' }, T0);
  assert.deepEqual(keys(store.watch('/d', { recursive: true, sinceIndex: 1 }).take()), ['set /d/_h 1']);
});

test('the cluster\'s own records (/_deimos) reach no watcher, from history or live', () => {
  const { store } = newStore();
  store.set('/_deimos/members/1/attributes', { value: '{}' }, T0); // 1
  store.set('/a', { value: '1' }, T0); // 2
  assert.deepEqual(keys(store.watch('/', { recursive: true, sinceIndex: 1 }).take()), ['set /a 2']);
  const direct = store.watch('/_deimos/members/1/attributes', { sinceIndex: 1 });
  const dir = store.watch('/_deimos', { recursive: true, stream: true });
  const root = store.watch('/', { recursive: true, stream: true });
  store.set('/_deimos/members/1/attributes', { value: '{"name":"x"}' }, T0); // 3
  store.delete('/_deimos', { recursive: true }); // 4
  store.set('/_deimosx', { value: '1' }, T0); // 5: only the prefix as a whole segment is reserved
  assert.equal(direct.closed, false);
  assert.deepEqual(keys(dir.take()), []);
  assert.deepEqual(keys(store.watch('/_deimosx', { sinceIndex: 1 }).take()), ['set /_deimosx 5']);
  assert.deepEqual(keys(root.take()), []);
  root.close();
});

test('a history scan finds the delete of an ancestor dir but not of a dir sharing a prefix', () => {
  const { store } = newStore();
  store.set('/foo/x', { value: '1' }, T0); // 1
  store.delete('/foo', { recursive: true }); // 2
  assert.deepEqual(keys(store.watch('/foo/x/y', { sinceIndex: 2 }).take()), ['delete /foo 2']);
  const w = store.watch('/foo2', { sinceIndex: 1 });
  assert.equal(w.closed, false, 'no match: waits for future events');
});

test('a sinceIndex with no match in history waits for the future', () => {
  const { store } = newStore();
  store.set('/a', { value: '1' }, T0);
  const w = store.watch('/b', { sinceIndex: 1 });
  assert.equal(w.closed, false);
  store.set('/b', { value: '1' }, T0);
  assert.deepEqual(keys(w.take()), ['set /b 2']);
});

test('a future sinceIndex skips earlier events', () => {
  const { store } = newStore();
  const w = store.watch('/a', { sinceIndex: 3 });
  store.set('/a', { value: '1' }, T0);
  store.set('/a', { value: '2' }, T0);
  assert.equal(w.pending, 0);
  store.set('/a', { value: '3' }, T0);
  assert.deepEqual(keys(w.take()), ['set /a 3']);
});

test('a sinceIndex older than the kept history fails with 401 at the current index', () => {
  const { store } = newStore({ historyLimit: 5, historyMemorySize: 2 });
  for (let i = 0; i < 10; i++) {
    store.set('/k', { value: String(i) }, T0);
    store.commit({ index: i + 1, term: 1 });
  }
  assert.equal(store.historyStartIndex, 6);
  expectError(() => store.watch('/k', { sinceIndex: 5 }), 401, 'the requested history has been cleared [6/5]', 10);
  assert.deepEqual(keys(store.watch('/k', { sinceIndex: 6 }).take()), ['set /k 6']);
});

test('history older than the memory window is read back from the backend', () => {
  const { store } = newStore({ historyMemorySize: 2 });
  for (let i = 1; i <= 20; i++) {
    store.set(`/k${i % 4}`, { value: String(i) }, T0);
    store.commit({ index: i, term: 1 });
  }
  assert.deepEqual(keys(store.watch('/k1', { sinceIndex: 2 }).take()), ['set /k1 5']);
  const s = store.watch('/k1', { sinceIndex: 1, stream: true });
  assert.deepEqual(keys(s.take()), ['set /k1 1', 'set /k1 5', 'set /k1 9', 'set /k1 13', 'set /k1 17']);
  assert.equal(s.closed, false, 'a stream watcher stays registered after replaying history');
  store.set('/k1', { value: 'live' }, T0);
  assert.deepEqual(keys(s.take()), ['set /k1 21']);
});

test('a stream watcher keeps receiving until closed; close unregisters at once', () => {
  const { store } = newStore();
  const w = store.watch('/s', { stream: true });
  let wakes = 0;
  w.setListener(() => wakes++);
  store.set('/s', { value: '1' }, T0);
  store.set('/s', { value: '2' }, T0);
  assert.equal(wakes, 2);
  assert.deepEqual(keys(w.take()), ['set /s 1', 'set /s 2']);
  w.close();
  assert.equal(store.stats.watchers, 0);
  store.set('/s', { value: '3' }, T0);
  assert.equal(w.pending, 0);
  assert.equal(w.closeReason, 'closed');
  assert.equal(wakes, 2, 'the consumer is not called back for its own close');
});

test('a slow stream watcher overflows and is closed without blocking writes', () => {
  const { store } = newStore();
  const slow = store.watch('/s', { stream: true, bufferSize: 3 });
  const fast = store.watch('/s', { stream: true, bufferSize: 3 });
  let closedSeen = false;
  slow.setListener(() => { closedSeen = slow.closed; });
  for (let i = 0; i < 10; i++) {
    store.set('/s', { value: String(i) }, T0);
    fast.take();
  }
  assert.equal(slow.overflowed, true);
  assert.equal(closedSeen, true);
  assert.deepEqual(keys(slow.take()), ['set /s 1', 'set /s 2', 'set /s 3'], 'buffered events stay takeable; the client resumes from 4');
  assert.equal(fast.closed, false);
  assert.equal(store.stats.watchers, 1);
});

test('a history replay larger than the stream buffer overflows at once', () => {
  const { store } = newStore();
  for (let i = 0; i < 5; i++) store.set('/s', { value: String(i) }, T0);
  const w = store.watch('/s', { stream: true, sinceIndex: 1, bufferSize: 2 });
  assert.equal(w.overflowed, true);
  assert.equal(store.stats.watchers, 0);
});

test('setting a listener on a watcher with pending events calls it at once', () => {
  const { store } = newStore();
  store.set('/a', { value: '1' }, T0);
  const w = store.watch('/a', { sinceIndex: 1 });
  let called = 0;
  w.setListener(() => called++);
  assert.equal(called, 1);
});
