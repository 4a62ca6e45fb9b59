import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWatchStream, type WatchEvent } from '../chaos/checker/index.js';

const committed: WatchEvent[] = [
  { action: 'set', key: '/w/a', modifiedIndex: 5, value: '1' },
  { action: 'set', key: '/w/b', modifiedIndex: 7, value: '2' },
  { action: 'delete', key: '/w/a', modifiedIndex: 8 },
  { action: 'compareAndSwap', key: '/w/b', modifiedIndex: 11, value: '3' },
];

test('accepts the committed events from the start index in order', () => {
  assert.deepEqual(checkWatchStream(committed.slice(1), { fromIndex: 6, committed }), { ok: true, problems: [] });
  assert.equal(checkWatchStream(committed.slice(1, 3), { fromIndex: 7, committed }).ok, true);
  assert.equal(checkWatchStream([], { fromIndex: 12, committed }).ok, true);
});

test('rejects duplicates, reordering and events older than the start index', () => {
  const dup = checkWatchStream([committed[1], committed[1]] as WatchEvent[], { fromIndex: 6 });
  assert.match(dup.problems.join('\n'), /duplicates the previous event's index/);
  const back = checkWatchStream([committed[2], committed[1]] as WatchEvent[], { fromIndex: 6 });
  assert.match(back.problems.join('\n'), /goes back from index 8/);
  const old = checkWatchStream([committed[0]] as WatchEvent[], { fromIndex: 6 });
  assert.match(old.problems.join('\n'), /older than the watch start index 6/);
});

test('rejects a gap against the committed events', () => {
  const result = checkWatchStream([committed[1], committed[3]] as WatchEvent[], { fromIndex: 6, committed });
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems, ['committed delete /w/a @8 is missing from the stream (a gap: later events were delivered)']);
});

test('rejects events never committed or different from the committed ones', () => {
  const forged = checkWatchStream([{ action: 'set', key: '/w/a', modifiedIndex: 9, value: 'x' }], { fromIndex: 9, committed });
  assert.match(forged.problems.join('\n'), /never committed/);
  const changed = checkWatchStream([{ ...committed[1], value: 'other' } as WatchEvent], { fromIndex: 7, committed });
  assert.match(changed.problems.join('\n'), /but the committed event at that index is set \/w\/b = '2' @7/);
});

test('requires everything through expectThroughIndex when asked', () => {
  const result = checkWatchStream(committed.slice(1, 2), { fromIndex: 6, committed, expectThroughIndex: 11 });
  assert.equal(result.problems.length, 2);
  assert.match(result.problems[1] ?? '', /@11 is missing from the stream \(not delivered\)/);
});
