/**
 * The worker's read cache: what it keeps, and that every event that could change a kept answer
 * drops it (the key, the directories above it, and for a directory's change everything below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadCache } from '../../src/worker/read-cache.js';
import type { StoreEvent } from '../../src/store/index.js';

const answer = (body: string) => ({ body, raftIndex: 7, raftTerm: 2 });
const event = (key: string, dir = false, prevDir = false, action = 'set'): StoreEvent => ({
  action, index: 1, node: { key, ...(dir ? { dir: true } : {}), modifiedIndex: 1, createdIndex: 1 },
  ...(prevDir ? { prevNode: { key, dir: true, modifiedIndex: 1, createdIndex: 1 } } : {}),
} as unknown as StoreEvent);

test('keeps an answer per path and read flags', () => {
  const c = new ReadCache();
  c.put('/a', 0, answer('{"plain"}'));
  c.put('/a', 2, answer('{"recursive"}'));
  assert.equal(c.get('/a', 0)?.body, '{"plain"}');
  assert.equal(c.get('/a', 2)?.body, '{"recursive"}');
  assert.equal(c.get('/a', 4), undefined);
  assert.equal(c.get('/b', 0), undefined);
  assert.equal(c.size, 2);
});

test('does not keep bodies that change with time (a TTL) or are too big', () => {
  const c = new ReadCache({ maxBodyChars: 100, maxTotalChars: 1000, maxEntries: 10 });
  c.put('/ttl', 0, answer('{"node":{"key":"/ttl","expiration":"2026-12-04T00:00:00Z","ttl":5}}'));
  c.put('/big', 0, answer('x'.repeat(101)));
  assert.equal(c.get('/ttl', 0), undefined);
  assert.equal(c.get('/big', 0), undefined);
  assert.equal(c.size, 0);
});

test('an event drops its key and every directory above it, and nothing else', () => {
  const c = new ReadCache();
  for (const p of ['/', '/a', '/a/b', '/a/b/c', '/a/bc', '/a/b/c/d', '/x']) c.put(p, 0, answer(p));
  c.invalidate(event('/a/b/c'));
  assert.deepEqual(['/', '/a', '/a/b', '/a/b/c'].map((p) => c.get(p, 0)), [undefined, undefined, undefined, undefined]);
  assert.equal(c.get('/a/bc', 0)?.body, '/a/bc');
  assert.equal(c.get('/x', 0)?.body, '/x');
  // A file's change cannot reach below it (it has nothing below).
  assert.equal(c.get('/a/b/c/d', 0)?.body, '/a/b/c/d');
});

test('a directory\'s removal (delete, expiry) drops everything below it; its creation or TTL change does not', () => {
  const c = new ReadCache();
  for (const p of ['/d/x', '/d/e/y', '/dz', '/other']) c.put(p, 2, answer(p));
  c.invalidate(event('/d', false, true, 'delete')); // the node is gone, the previous one was a directory
  assert.equal(c.get('/d/x', 2), undefined);
  assert.equal(c.get('/d/e/y', 2), undefined);
  assert.equal(c.get('/dz', 2)?.body, '/dz');
  c.put('/q/r', 0, answer('/q/r'));
  c.put('/q', 0, answer('/q'));
  c.invalidate(event('/q', true, true, 'update')); // a TTL given to the directory
  assert.equal(c.get('/q', 0), undefined, 'the directory\'s own answer shows its TTL');
  assert.equal(c.get('/q/r', 0)?.body, '/q/r');
  c.invalidate(event('/q', true, true, 'expire'));
  assert.equal(c.get('/q/r', 0), undefined);
  c.put('/s/t', 0, answer('/s/t'));
  c.invalidate(event('/s', true, true, 'compareAndDelete'));
  assert.equal(c.get('/s/t', 0), undefined);
  assert.equal(c.get('/other', 2)?.body, '/other');
});

test('stays within its bounds, dropping the oldest first, and clear empties it', () => {
  const c = new ReadCache({ maxBodyChars: 100, maxTotalChars: 250, maxEntries: 3 });
  for (let i = 0; i < 5; i++) c.put(`/k${i}`, 0, answer('x'.repeat(60)));
  assert.equal(c.size, 3);
  assert.equal(c.get('/k0', 0), undefined);
  assert.equal(c.get('/k4', 0)?.body.length, 60);
  c.put('/k5', 0, answer('y'.repeat(100)));
  assert.ok(c.size <= 3);
  assert.equal(c.get('/k5', 0)?.body.length, 100);
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.get('/k5', 0), undefined);
});

test('a directory\'s removal with many paths kept empties the cache rather than scanning it', () => {
  const c = new ReadCache();
  for (let i = 0; i < 600; i++) c.put(`/k${i}`, 0, answer('x'));
  c.put('/gone/x', 0, answer('x'));
  c.invalidate(event('/gone', false, true, 'delete'));
  assert.equal(c.get('/gone/x', 0), undefined);
  assert.equal(c.size, 0);
});
