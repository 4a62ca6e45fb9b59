import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRfc3339Nano, remainingTtlSeconds } from '../../src/store/index.js';
import { T0, expectError, json, newStore } from './support.js';

test('expirations are RFC3339Nano in UTC with trailing zeros trimmed', () => {
  assert.equal(formatRfc3339Nano(Date.UTC(2026, 10, 26, 8, 20, 12, 780)), '2026-11-26T08:20:12.78Z');
  assert.equal(formatRfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 0)), '2026-01-02T03:04:05Z');
  assert.equal(formatRfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 1)), '2026-01-02T03:04:05.001Z');
  assert.equal(formatRfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 100)), '2026-01-02T03:04:05.1Z');
});

test('ttl is the remaining seconds rounded up, 0 at expiry and negative once past', () => {
  const table: [number, number][] = [[5000, 5], [3800, 4], [1, 1], [0, 0], [-500, 0], [-1200, -1], [-2000, -2]];
  for (const [remainingMs, ttl] of table) assert.equal(remainingTtlSeconds(T0 + remainingMs, T0), ttl, `${remainingMs} ms`);
  assert.ok(!Object.is(remainingTtlSeconds(T0 - 500, T0), -0));
});

test('a get renders ttl against the reader clock while the expiration stays fixed', () => {
  const { store } = newStore();
  store.set('/t', { value: 'v', ttlSeconds: 5 }, T0);
  const node = (now: number) => store.get('/t', {}, now).event.node;
  assert.deepEqual(node(T0 + 1200), { key: '/t', value: 'v', expiration: '2026-11-26T08:20:12.78Z', ttl: 4, modifiedIndex: 1, createdIndex: 1 });
  assert.deepEqual(node(T0 + 5000), { key: '/t', value: 'v', expiration: '2026-11-26T08:20:12.78Z', modifiedIndex: 1, createdIndex: 1 });
  assert.equal(node(T0 + 6200)?.ttl, -1, 'an expired key not yet swept is still readable');
});

test('deleteExpiredKeys removes keys whose expiration is reached, one expire event and index each', () => {
  const { store } = newStore();
  store.set('/a', { value: 'A', ttlSeconds: 2 }, T0);
  store.set('/b', { value: 'B', ttlSeconds: 1 }, T0);
  store.set('/keep', { value: 'K' }, T0);
  assert.deepEqual(store.deleteExpiredKeys(T0 + 999), []);
  const events = store.deleteExpiredKeys(T0 + 2000);
  assert.deepEqual(events.map((e) => json(e, T0 + 2000)), [
    { action: 'expire', node: { key: '/b', modifiedIndex: 4, createdIndex: 2 },
      prevNode: { key: '/b', value: 'B', expiration: '2026-11-26T08:20:08.78Z', ttl: -1, modifiedIndex: 2, createdIndex: 2 } },
    { action: 'expire', node: { key: '/a', modifiedIndex: 5, createdIndex: 1 },
      prevNode: { key: '/a', value: 'A', expiration: '2026-11-26T08:20:09.78Z', modifiedIndex: 1, createdIndex: 1 } },
  ]);
  assert.equal(store.index, 5);
  expectError(() => store.get('/a', {}, T0), 100, '/a', 5);
  assert.equal(store.stats.expireCount, 2);
});

test('keys expiring at the same instant expire in path order on every replica', () => {
  const { store } = newStore();
  for (const k of ['/z', '/m', '/a']) store.set(k, { value: k, ttlSeconds: 1 }, T0);
  assert.deepEqual(store.deleteExpiredKeys(T0 + 1000).map((e) => e.node.key), ['/a', '/m', '/z']);
});

test('ttl=0 expires at the next sweep', () => {
  const { store } = newStore();
  const e = store.set('/z', { value: 'v', ttlSeconds: 0 }, T0);
  assert.deepEqual(json(e).node, { key: '/z', value: 'v', expiration: '2026-11-26T08:20:07.78Z', modifiedIndex: 1, createdIndex: 1 });
  assert.equal(store.deleteExpiredKeys(T0).length, 1);
});

test('a dir with a ttl expires with its whole subtree in one event', () => {
  const { store } = newStore();
  store.set('/d', { dir: true, ttlSeconds: 1 }, T0);
  store.set('/d/x/y', { value: 'v', ttlSeconds: 1 }, T0);
  const events = store.deleteExpiredKeys(T0 + 1000);
  assert.deepEqual(events.map((e) => json(e, T0 + 1000)), [{
    action: 'expire', node: { key: '/d', dir: true, modifiedIndex: 3, createdIndex: 1 },
    prevNode: { key: '/d', dir: true, expiration: '2026-11-26T08:20:08.78Z', modifiedIndex: 1, createdIndex: 1 },
  }]);
  assert.deepEqual(store.deleteExpiredKeys(T0 + 10_000), [], 'the child left the ttl heap with its dir');
});

test('changing or removing a ttl moves the key in the expiry order', () => {
  const { store } = newStore();
  store.set('/a', { value: 'v', ttlSeconds: 1 }, T0);
  store.set('/b', { value: 'v', ttlSeconds: 1 }, T0);
  store.update('/a', { value: 'w', ttlSeconds: 10 }, T0);
  store.compareAndSwap('/b', { prevValue: 'v', value: 'w' }, T0);
  assert.deepEqual(store.deleteExpiredKeys(T0 + 5000), []);
  assert.deepEqual(store.deleteExpiredKeys(T0 + 10_000).map((e) => e.node.key), ['/a']);
});

test('deleted and replaced ttl keys never expire later', () => {
  const { store } = newStore();
  store.set('/a', { value: 'v', ttlSeconds: 1 }, T0);
  store.set('/d/b', { value: 'v', ttlSeconds: 1 }, T0);
  store.set('/c', { value: 'v', ttlSeconds: 1 }, T0);
  store.set('/a', { value: 'permanent' }, T0);
  store.delete('/d', { recursive: true });
  store.compareAndDelete('/c', { prevValue: 'v' });
  assert.deepEqual(store.deleteExpiredKeys(T0 + 5000), []);
});

test('a refresh keeps the value, resets the ttl and advances the index', () => {
  const { store } = newStore();
  store.set('/r', { value: 'v', ttlSeconds: 1 }, T0);
  const e = store.update('/r', { refresh: true, ttlSeconds: 10 }, T0 + 500);
  assert.equal(e.refresh, true);
  assert.equal(store.index, 2);
  assert.deepEqual(store.deleteExpiredKeys(T0 + 5000), []);
  assert.equal(store.get('/r', {}, T0).event.node?.value, 'v');
});

test('a ttl ending after 2262 (past etcd\'s int64 nanoseconds) makes a permanent key, as on etcd', () => {
  const { store } = newStore();
  const lastMs = 9_223_372_036_854;
  for (const [key, ttlSeconds] of [['/h', Number.MAX_SAFE_INTEGER], ['/g', 9_223_372_036], ['/f', Math.floor((lastMs - T0) / 1000) + 1]] as const) {
    const e = json(store.set(key, { value: 'v', ttlSeconds }, T0));
    assert.equal(e.node?.expiration, undefined, key);
    assert.equal(e.node?.ttl, undefined, key);
  }
  // The last second before it still expires, with a four-digit year.
  const e = json(store.set('/e', { value: 'v', ttlSeconds: Math.floor((lastMs - T0) / 1000) }, T0));
  assert.match(e.node?.expiration ?? '', /^2262-04-11T23:47:1\d/);
  // Updating a key with a ttl to such a ttl makes it permanent too.
  store.set('/d', { value: 'v', ttlSeconds: 5 }, T0);
  store.update('/d', { value: 'w', ttlSeconds: 9_223_372_036 }, T0);
  assert.deepEqual(store.deleteExpiredKeys(lastMs).map((ev) => ev.node.key), ['/e']);
  assert.equal(store.get('/d', {}, lastMs).event.node?.value, 'w');
});

test('an event shows the ttls of the moment it happened, however much later it is read (a watch from history)', () => {
  const { store } = newStore();
  store.set('/k', { value: 'v', ttlSeconds: 100 }, T0);
  const set = store.watch('/k', { sinceIndex: 1 }).take()[0]!;
  const later = T0 + 42_500;
  assert.equal(json(set, later).node?.ttl, 100, 'the new key had 100 s when it was set');
  const cas = store.compareAndSwap('/k', { value: 'w', prevValue: 'v', ttlSeconds: 60 }, T0 + 10_000);
  assert.deepEqual([json(cas, later).node?.ttl, json(cas, later).prevNode?.ttl], [60, 90]);
  const del = store.delete('/k', {}, T0 + 30_000);
  assert.equal(json(del, later).prevNode?.ttl, 40, 'a delete counts from its own time too');
  // From the history, read long after: the same ttls.
  const replayed = store.watch('/k', { sinceIndex: 2 }).take()[0]!;
  assert.deepEqual(json(replayed, later).prevNode?.ttl, 90);
  // An event without a time (a delete proposed by an older build) counts from the reader's clock.
  store.set('/old', { value: 'v', ttlSeconds: 100 }, T0);
  assert.equal(json(store.delete('/old', {}), T0 + 42_500).prevNode?.ttl, 58);
});
