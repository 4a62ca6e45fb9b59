import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_HARD_STATE } from '@deimos/protocol';
import { Wal, WalExistsError, WalNotFoundError, WalClosedError, segmentFileName } from '../../src/wal/index.js';
import { META, entries, entry, segmentNames, view, walDir } from './helpers.js';

test('a created log reopens empty with its metadata', (t) => {
  const dir = walDir(t);
  Wal.create(dir, META).close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(opened.metadata, META);
  assert.deepEqual(opened.hardState, EMPTY_HARD_STATE);
  assert.equal(opened.snapshot, undefined);
  assert.deepEqual(opened.entries, []);
  assert.equal(opened.repaired, undefined);
  assert.deepEqual(segmentNames(dir), [segmentFileName(0, 1)]);
  assert.equal(segmentFileName(0, 1), '0000000000000000-0000000000000001.wal');
});

test('create refuses a directory that already holds a log, and open refuses one without segments', (t) => {
  const dir = walDir(t);
  assert.equal(Wal.exists(dir), false);
  assert.throws(() => Wal.open(dir), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
  Wal.create(dir, META).close();
  assert.ok(Wal.exists(dir));
  assert.throws(() => Wal.create(dir, META), WalExistsError);
  rmSync(join(dir, segmentNames(dir)[0]!));
  assert.throws(() => Wal.open(dir), WalNotFoundError);
});

test('entries and hard state survive a reopen', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 1, vote: META.nodeId, commit: 0 }, entries(1, 3, 1));
  wal.save(undefined, entries(4, 5, 1));
  wal.save({ term: 2, vote: '0', commit: 5 }, [entry(6, 2, ''), { ...entry(7, 2), type: 1, data: new Uint8Array([0, 255, 7]) }]);
  wal.close();
  const opened = Wal.open(dir);
  assert.deepEqual(opened.hardState, { term: 2, vote: '0', commit: 5 });
  assert.deepEqual(view(opened.entries.slice(0, 6)), view([...entries(1, 5, 1), entry(6, 2, '')]));
  assert.equal(opened.entries[6]!.type, 1);
  assert.deepEqual([...opened.entries[6]!.data], [0, 255, 7]);
  assert.equal(opened.wal.lastIndex, 7);
  // Appending after a reopen continues the same segment.
  opened.wal.save(undefined, [entry(8, 2)]);
  opened.wal.close();
  const again = Wal.open(dir);
  again.wal.close();
  assert.equal(again.entries.length, 8);
  assert.equal(segmentNames(dir).length, 1);
});

test('an empty save writes nothing and does not sync', (t) => {
  const dir = walDir(t);
  let syncs = 0;
  const wal = Wal.create(dir, META, { onSync: () => syncs++ });
  wal.save(undefined, []);
  assert.equal(syncs, 0);
  wal.save({ term: 1, vote: '0', commit: 0 }, entries(1, 100, 1));
  assert.equal(syncs, 1, 'one fdatasync per save, however many entries');
  wal.close();
  assert.throws(() => wal.save(undefined, [entry(101, 1)]), WalClosedError);
});

test('save rejects a gap, a non-contiguous batch and entries covered by the snapshot', (t) => {
  const wal = Wal.create(walDir(t), META);
  t.after(() => wal.close());
  wal.save(undefined, entries(1, 3, 1));
  assert.throws(() => wal.save(undefined, [entry(5, 1)]), /gap/);
  assert.throws(() => wal.save(undefined, [entry(4, 1), entry(6, 1)]), /contiguous/);
  wal.saveSnapshotMarker({ index: 2, term: 1, confState: { voters: ['1'], learners: [] } });
  assert.throws(() => wal.save(undefined, [entry(2, 2)]), /covered by snapshot/);
});

test('a later entry with the same index overwrites the conflicting tail', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 1, vote: '1', commit: 2 }, entries(1, 5, 1));
  wal.save({ term: 2, vote: '2', commit: 2 }, entries(3, 4, 2));
  wal.save(undefined, [entry(5, 2, 'after')]);
  assert.equal(wal.lastIndex, 5);
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(view(opened.entries), [...view(entries(1, 2, 1)), ...view(entries(3, 4, 2)), [5, 2, 'after']]);
  assert.equal(opened.wal.lastIndex, 5);
});

test('an overwrite that shortens the log is read back short', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save(undefined, entries(1, 10, 1));
  wal.save(undefined, entries(4, 4, 3));
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(view(opened.entries), view([...entries(1, 3, 1), entry(4, 3)]));
  assert.equal(opened.wal.lastIndex, 4);
});

test('the log rolls over to a new segment past segmentSizeBytes and reads back across segments', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { segmentSizeBytes: 1024 });
  for (let i = 1; i <= 200; i++) wal.save({ term: 1, vote: '1', commit: i - 1 }, [entry(i, 1)]);
  wal.close();
  const names = segmentNames(dir);
  assert.ok(names.length > 5, `expected many segments, got ${names.length}`);
  names.forEach((name, seq) => assert.equal(name.slice(0, 16), seq.toString(16).padStart(16, '0')));
  assert.equal(wal.segmentPaths().length, names.length);
  const opened = Wal.open(dir, { segmentSizeBytes: 1024 });
  assert.deepEqual(view(opened.entries), view(entries(1, 200, 1)));
  assert.deepEqual(opened.hardState, { term: 1, vote: '1', commit: 199 });
  // An overwrite reaching back into an older segment still wins on reopen.
  opened.wal.save(undefined, entries(150, 160, 2));
  opened.wal.close();
  const again = Wal.open(dir);
  again.wal.close();
  assert.deepEqual(view(again.entries), view([...entries(1, 149, 1), ...entries(150, 160, 2)]));
});

test('a snapshot marker is read back, drops the entries it covers, and cuts a new segment', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 1, vote: '1', commit: 10 }, entries(1, 10, 1));
  const marker = { index: 6, term: 1, confState: { voters: ['1', 'ff', 'ffffffffffffffff'], learners: ['a'] } };
  wal.saveSnapshotMarker(marker);
  assert.equal(segmentNames(dir).length, 2, 'a marker after entries starts a new segment');
  wal.saveSnapshotMarker({ ...marker, index: 7 });
  assert.equal(segmentNames(dir).length, 2, 'a marker in a segment without entries does not cut');
  wal.save(undefined, entries(11, 12, 1));
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(opened.snapshot, { ...marker, index: 7 });
  assert.deepEqual(view(opened.entries), view(entries(8, 12, 1)));
  assert.deepEqual(opened.hardState, { term: 1, vote: '1', commit: 10 });
});

test('a snapshot marker whose term disagrees with the log replaces the whole log', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save(undefined, entries(1, 5, 1));
  wal.saveSnapshotMarker({ index: 8, term: 3, confState: { voters: ['1'], learners: [] } });
  assert.equal(wal.lastIndex, 8);
  wal.save(undefined, entries(9, 9, 3));
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.equal(opened.snapshot?.index, 8);
  assert.deepEqual(view(opened.entries), view([entry(9, 3)]));
});

test('releaseBefore deletes old segments, keeps the one holding index+1, and the log still reopens', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { segmentSizeBytes: 512 });
  for (let i = 1; i <= 100; i++) wal.save({ term: 1, vote: '1', commit: i }, [entry(i, 1)]);
  const before = segmentNames(dir).length;
  assert.throws(() => wal.releaseBefore(50), /passes snapshot marker/);
  wal.saveSnapshotMarker({ index: 50, term: 1, confState: { voters: ['1'], learners: [] } });
  const released = wal.releaseBefore(50);
  assert.ok(released > 0 && released < before, `released ${released} of ${before}`);
  assert.equal(segmentNames(dir).length, before + 1 - released);
  wal.save({ term: 2, vote: '1', commit: 101 }, [entry(101, 2)]);
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.equal(opened.snapshot?.index, 50);
  assert.deepEqual(view(opened.entries), view([...entries(51, 100, 1), entry(101, 2)]));
  assert.deepEqual(opened.hardState, { term: 2, vote: '1', commit: 101 });
  assert.deepEqual(opened.metadata, META);
});

test('disk use stays bounded when every snapshot is followed by a release', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { segmentSizeBytes: 4096 });
  const payload = 'x'.repeat(200);
  let maxSegments = 0;
  for (let i = 1; i <= 5000; i++) {
    wal.save({ term: 1, vote: '1', commit: i }, [entry(i, 1, payload)]);
    if (i % 500 === 0) {
      wal.saveSnapshotMarker({ index: i - 100, term: 1, confState: { voters: ['1'], learners: [] } });
      wal.releaseBefore(i - 100);
    }
    maxSegments = Math.max(maxSegments, segmentNames(dir).length);
  }
  wal.close();
  assert.ok(maxSegments <= 60, `segments grew to ${maxSegments}`);
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.equal(opened.snapshot?.index, 4900);
  assert.deepEqual(opened.entries.map((e) => e.index), Array.from({ length: 100 }, (_, k) => 4901 + k));
});

test('a leftover temp segment from a crash during a cut is removed on open', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save(undefined, entries(1, 2, 1));
  wal.close();
  writeFileSync(`${dir}/${segmentFileName(1, 3)}.tmp`, new Uint8Array([1, 2, 3]));
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(view(opened.entries), view(entries(1, 2, 1)));
  assert.equal(existsSync(`${dir}/${segmentFileName(1, 3)}.tmp`), false);
});
