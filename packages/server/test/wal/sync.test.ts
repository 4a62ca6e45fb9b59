import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FSYNC_DELAY_ENV, Wal } from '../../src/wal/index.js';
import { fsyncDelayFromEnv } from '../../src/wal/sync-io.js';
import { META, entries, entry, walDir } from './helpers.js';

test('the slow-disk hook delays every fdatasync and onSync reports it', (t) => {
  const durations: number[] = [];
  const wal = Wal.create(walDir(t), META, { fsyncDelayMs: 20, onSync: (ms) => durations.push(ms) });
  t.after(() => wal.close());
  wal.save(undefined, entries(1, 3, 1));
  wal.save({ term: 1, vote: '0', commit: 3 }, [entry(4, 1)]);
  assert.equal(durations.length, 2);
  for (const ms of durations) assert.ok(ms >= 19, `sync took ${ms} ms, want >= 20`);
});

test('the slow-disk delay is read from DEIMOS_TEST_FSYNC_DELAY_MS', () => {
  assert.equal(FSYNC_DELAY_ENV, 'DEIMOS_TEST_FSYNC_DELAY_MS');
  assert.equal(fsyncDelayFromEnv({}), 0);
  assert.equal(fsyncDelayFromEnv({ DEIMOS_TEST_FSYNC_DELAY_MS: '15' }), 15);
  assert.throws(() => fsyncDelayFromEnv({ DEIMOS_TEST_FSYNC_DELAY_MS: 'slow' }), RangeError);
});
