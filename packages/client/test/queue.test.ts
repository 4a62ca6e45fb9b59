import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { queueEntries, queuePosition } from '../src/queue.js';
import { waitCheckMs } from '../src/queue-ticket.js';

const dir = {
  key: '/locks/x', dir: true as const, modifiedIndex: 3, createdIndex: 3,
  nodes: [
    { key: '/locks/x/00000000000000000012', value: 'c', modifiedIndex: 20, createdIndex: 12 },
    { key: '/locks/x/00000000000000000005', value: 'a', modifiedIndex: 18, createdIndex: 5 },
    { key: '/locks/x/sub', dir: true as const, modifiedIndex: 6, createdIndex: 6 },
    { key: '/locks/x/00000000000000000009', value: 'b', modifiedIndex: 9, createdIndex: 9 },
  ],
};

describe('lock queue', () => {
  test('orders file entries by createdIndex and skips directories', () => {
    assert.deepEqual(queueEntries(dir).map((e) => e.value), ['a', 'b', 'c']);
    assert.deepEqual(queueEntries(undefined), []);
    assert.deepEqual(queueEntries({ key: '/locks/x', dir: true }), []);
  });

  test('the oldest entry holds the lock', () => {
    assert.deepEqual(queuePosition(queueEntries(dir), '/locks/x/00000000000000000005'), { kind: 'head' });
  });

  test('every other entry waits for its direct predecessor only', () => {
    const pos = queuePosition(queueEntries(dir), '/locks/x/00000000000000000012');
    assert.equal(pos.kind, 'waiting');
    assert.equal(pos.kind === 'waiting' && pos.predecessor.key, '/locks/x/00000000000000000009');
    assert.equal(pos.kind === 'waiting' && pos.ahead, 2);
  });

  test('an entry that expired is missing', () => {
    assert.deepEqual(queuePosition(queueEntries(dir), '/locks/x/00000000000000000007'), { kind: 'missing' });
  });
});

test("a queue's waiting watch checks its member as often as the key is refreshed (ttl/3), between 1 s and the watch's default minute", () => {
  assert.equal(waitCheckMs(6), 2_000);
  assert.equal(waitCheckMs(1), 1_000);
  assert.equal(waitCheckMs(300), 60_000, 'a long TTL checks no less often than a plain watch');
  assert.equal(waitCheckMs(6_000_000), 60_000);
});
