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

test('syncAsync makes unsynced saves durable off the event loop and reports them to onSync', async (t) => {
  const durations: number[] = [];
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { fsyncDelayMs: 20, onSync: (ms) => durations.push(ms) });
  wal.save(undefined, entries(1, 3, 1), { sync: false });
  assert.equal(durations.length, 0, 'a save without sync does not fsync');
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  await new Promise<void>((resolve, reject) => wal.syncAsync((err) => (err ? reject(err) : resolve())));
  clearInterval(ticker);
  assert.ok(ticks > 0, 'the event loop ran while the sync was under way');
  assert.equal(durations.length, 1);
  assert.ok(durations[0]! >= 19, `sync took ${durations[0]} ms, want >= 20`);
  wal.close();
  const opened = Wal.open(dir);
  t.after(() => opened.wal.close());
  assert.deepEqual(opened.entries.map((e) => e.index), [1, 2, 3]);
});

test('closing during a syncAsync waits for it: the callback still comes, without an error', async (t) => {
  const wal = Wal.create(walDir(t), META, { fsyncDelayMs: 10 });
  wal.save(undefined, entries(1, 2, 1), { sync: false });
  const done = new Promise<Error | undefined>((resolve) => wal.syncAsync(resolve));
  wal.close();
  assert.equal(await done, undefined);
});

test('a segment cut after unsynced saves syncs the old segment, and its entries survive', async (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { segmentSizeBytes: 1024 });
  for (let i = 1; i <= 40; i++) wal.save({ term: 1, vote: '0', commit: i - 1 }, [entry(i, 1)], { sync: false });
  await new Promise<void>((resolve, reject) => wal.syncAsync((err) => (err ? reject(err) : resolve())));
  assert.ok(wal.segmentPaths().length > 1, 'the log was cut at least once');
  wal.close();
  const opened = Wal.open(dir, { segmentSizeBytes: 1024 });
  t.after(() => opened.wal.close());
  assert.equal(opened.entries.length, 40);
  assert.equal(opened.repaired, undefined);
});
