import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend, Store, StoreStateError } from '../../src/store/index.js';
import type { StoreSnapshot } from '../../src/store/index.js';
import { T0, expectError, newStore } from './support.js';

const everything = (s: Store) => s.get('/', { recursive: true, sorted: true }, T0).event;

test('one commit is one backend batch carrying the applied raft position', () => {
  const { store, backend } = newStore();
  store.set('/a', { value: '1' }, T0);
  store.set('/b/c', { value: '2' }, T0);
  assert.throws(() => store.create('/a', {}, T0));
  assert.equal(store.hasUncommittedChanges, true);
  store.commit({ index: 7, term: 2 });
  assert.equal(backend.commitCount, 1);
  assert.equal(store.hasUncommittedChanges, false);
  assert.deepEqual(backend.load().applied, { index: 7, term: 2 });
  assert.equal(backend.load().storeIndex, 2);
});

test('applied batches marked without a flush reach the backend together at the next flush', () => {
  const { store, backend } = newStore();
  store.set('/a', { value: '1' }, T0);
  store.markApplied({ index: 3, term: 1 });
  store.set('/b', { value: '2' }, T0);
  store.markApplied({ index: 4, term: 1 });
  assert.equal(backend.commitCount, 0, 'nothing is written before the flush');
  assert.deepEqual(store.applied, { index: 4, term: 1 });
  assert.equal(store.unflushedCount, 4, 'two node changes and two events');
  let seen = 0;
  store.watch('/a', { sinceIndex: 1 }).take().forEach(() => seen++);
  assert.equal(seen, 1, 'unflushed events are in the history');
  store.flush();
  assert.equal(backend.commitCount, 1);
  assert.deepEqual(backend.load().applied, { index: 4, term: 1 });
  assert.equal(backend.load().storeIndex, 2);
  assert.equal(store.unflushedCount, 0);
  store.flush();
  assert.equal(backend.commitCount, 1, 'a flush with nothing new writes nothing');
  store.markApplied({ index: 5, term: 2 });
  store.flush();
  assert.deepEqual(backend.load().applied, { index: 5, term: 2 }, 'a new position alone (an empty entry) is written');
  assert.throws(() => store.markApplied({ index: 4, term: 2 }), /applied index went backwards/);
});

test('reopening over the same backend recovers keyspace, indexes, ttls and history', () => {
  const { store, backend } = newStore();
  store.set('/a/b', { value: '1' }, T0);
  store.set('/t', { value: 'ttl', ttlSeconds: 3 }, T0);
  store.set('/d/x', { value: 'x' }, T0);
  store.delete('/d', { recursive: true });
  store.set('/a/_h', { value: 'h' }, T0);
  store.commit({ index: 5, term: 1 });
  store.set('/uncommitted', { value: 'lost' }, T0);
  backend.close();

  const reopened = new Store({ backend: backend.reopen() });
  assert.equal(reopened.index, 5);
  assert.deepEqual(reopened.applied, { index: 5, term: 1 });
  assert.deepEqual(everything(reopened), {
    action: 'get',
    node: { dir: true, nodes: [
      { key: '/a', dir: true, nodes: [{ key: '/a/b', value: '1', modifiedIndex: 1, createdIndex: 1 }], modifiedIndex: 1, createdIndex: 1 },
      { key: '/t', value: 'ttl', expiration: '2026-11-26T08:20:10.78Z', ttl: 3, modifiedIndex: 2, createdIndex: 2 },
    ] },
  });
  assert.equal(reopened.get('/a/_h', {}, T0).event.node?.value, 'h');
  assert.deepEqual(reopened.deleteExpiredKeys(T0 + 3000).map((e) => e.node.key), ['/t']);
  const w = reopened.watch('/d/x', { sinceIndex: 4 });
  assert.deepEqual(w.take().map((e) => `${e.action} ${e.node.key} ${e.index}`), ['delete /d 4']);
});

test('a snapshot round trip reproduces the state and keeps the recent history', () => {
  const { store } = newStore();
  store.set('/a/b', { value: '1' }, T0);
  store.set('/t', { dir: true, ttlSeconds: 3 }, T0);
  store.set('/_hidden', { value: 'h' }, T0);
  store.create('/q', { unique: true, value: 'job' }, T0);
  const snapshot = JSON.parse(JSON.stringify(store.toSnapshot())) as StoreSnapshot;

  const { store: follower } = newStore();
  follower.set('/stale', { value: 'gone' }, T0);
  follower.commit({ index: 1, term: 1 });
  const live = follower.watch('/stale', { stream: true });
  follower.fromSnapshot(snapshot, { index: 40, term: 3 });

  assert.deepEqual(everything(follower), everything(store));
  assert.equal(follower.get('/_hidden', {}, T0).event.node?.value, 'h');
  assert.equal(follower.index, 4);
  assert.deepEqual(follower.applied, { index: 40, term: 3 });
  assert.equal(live.closeReason, 'cleared');
  assert.equal(follower.stats.watchers, 0);
  assert.deepEqual(follower.watch('/a', { recursive: true, sinceIndex: 1 }).take().map((e) => e.index), [1]);
  assert.deepEqual(follower.deleteExpiredKeys(T0 + 3000).map((e) => e.node.key), ['/t']);
  follower.set('/next', { value: 'n' }, T0);
  assert.equal(follower.index, 6);
});

test('a snapshot without history makes older indexes fail with 401', () => {
  const { store } = newStore();
  store.set('/a', { value: '1' }, T0);
  const snapshot: StoreSnapshot = { ...store.toSnapshot(), events: [] };
  const { store: follower } = newStore();
  follower.fromSnapshot(snapshot, { index: 9, term: 1 });
  expectError(() => follower.watch('/a', { sinceIndex: 1 }), 401, 'the requested history has been cleared [2/1]', 1);
  assert.equal(follower.watch('/a', { sinceIndex: 2 }).closed, false);
});

test('history pruning keeps exactly the configured window in the backend', () => {
  const backend = new MemoryBackend();
  const store = new Store({ backend, historyLimit: 10, historyMemorySize: 3 });
  for (let i = 1; i <= 25; i++) {
    store.set('/k', { value: String(i) }, T0);
    if (i % 4 === 0) store.commit({ index: i, term: 1 });
  }
  store.commit({ index: 25, term: 1 });
  assert.deepEqual(backend.readEvents(0, 100).map((e) => e.index), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  const reopened = new Store({ backend, historyLimit: 10, historyMemorySize: 3 });
  assert.equal(reopened.historyStartIndex, 16);
  assert.deepEqual(reopened.watch('/k', { sinceIndex: 16 }).take().map((e) => e.index), [16]);
});

test('a snapshot whose history does not end at its index is refused', () => {
  const { store } = newStore();
  store.set('/a', { value: '1' }, T0);
  store.set('/b', { value: '1' }, T0);
  const snapshot = store.toSnapshot();
  const { store: follower } = newStore();
  const broken: StoreSnapshot = { ...snapshot, events: snapshot.events.slice(0, 1) };
  assert.throws(() => follower.fromSnapshot(broken, { index: 5, term: 1 }), (e: unknown) => e instanceof StoreStateError && e.code === 'INVALID_SNAPSHOT');
  assert.equal(follower.index, 0);
});
