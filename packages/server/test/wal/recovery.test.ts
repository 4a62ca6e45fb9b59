import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch, Wal, WalCorruptionError, segmentFileName } from '../../src/wal/index.js';
import { META, entries, entry, flipByte, isCorruption, lastSegment, segmentNames, segmentedLog, view, walDir } from './helpers.js';

/** A one-segment log: entries 1..3 with a hard state, then one more save of entry 4; returns the last save's offset. */
function smallLog(dir: string): { file: string; lastBatchStart: number; size: number } {
  const wal = Wal.create(dir, META);
  wal.save({ term: 1, vote: '1', commit: 1 }, entries(1, 3, 1));
  const file = lastSegment(dir);
  const lastBatchStart = statSync(file).size;
  wal.save({ term: 1, vote: '1', commit: 3 }, [entry(4, 1, 'the last entry')]);
  wal.close();
  return { file, lastBatchStart, size: statSync(file).size };
}

test('a torn last save is truncated at every cut offset and the log keeps working', (t) => {
  const dir = walDir(t);
  const { file, lastBatchStart, size } = smallLog(dir);
  const original = readFileSync(file);
  for (let cut = lastBatchStart; cut < size; cut++) {
    writeFileSync(file, original.subarray(0, cut));
    const opened = Wal.open(dir);
    const lastEntryEnd = lastBatchStart + 8 + 1 + 17 + 'the last entry'.length;
    const wholeEntry = cut >= lastEntryEnd;
    assert.deepEqual(view(opened.entries), view(wholeEntry ? [...entries(1, 3, 1), entry(4, 1, 'the last entry')] : entries(1, 3, 1)), `cut ${cut}`);
    assert.deepEqual(opened.hardState, { term: 1, vote: '1', commit: 1 }, `cut ${cut}: the torn hard state is not used`);
    const atBoundary = cut === lastBatchStart || cut === lastEntryEnd;
    assert.equal(opened.repaired === undefined, atBoundary, `cut ${cut}`);
    if (opened.repaired) {
      assert.equal(opened.repaired.offset, wholeEntry ? lastEntryEnd : lastBatchStart);
      assert.equal(opened.repaired.droppedBytes, cut - opened.repaired.offset);
    }
    assert.equal(statSync(file).size, wholeEntry ? lastEntryEnd : lastBatchStart);
    // The repaired log accepts appends and reopens cleanly.
    opened.wal.save({ term: 2, vote: '2', commit: 3 }, [entry(opened.wal.lastIndex + 1, 2)]);
    opened.wal.close();
    const again = Wal.open(dir);
    again.wal.close();
    assert.equal(again.repaired, undefined);
    assert.equal(again.entries.at(-1)!.term, 2);
    assert.deepEqual(again.hardState, { term: 2, vote: '2', commit: 3 });
  }
});

test('a flipped byte anywhere in a middle record is a WalCorruptionError, never skipped', (t) => {
  const dir = walDir(t);
  const { file, lastBatchStart } = smallLog(dir);
  const original = readFileSync(file);
  // Second record onwards up to the last save: header, metadata and the first batch.
  for (let offset = 0; offset < lastBatchStart; offset++) {
    writeFileSync(file, original);
    flipByte(file, offset);
    assert.throws(() => Wal.open(dir), isCorruption(file), `flipped byte ${offset}`);
  }
});

test('a flipped byte in the last record is treated as a torn write and truncated', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save(undefined, entries(1, 3, 1));
  const file = lastSegment(dir);
  const start = statSync(file).size;
  wal.save(undefined, [entry(4, 1)]);
  wal.close();
  const original = readFileSync(file);
  for (let offset = start; offset < original.length; offset++) {
    writeFileSync(file, original);
    flipByte(file, offset);
    const opened = Wal.open(dir);
    opened.wal.close();
    assert.deepEqual(view(opened.entries), view(entries(1, 3, 1)), `flipped byte ${offset}`);
    assert.equal(opened.repaired?.offset, start);
  }
});

test('records written but never fsynced are read back, and a partial last record is dropped', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 1, vote: '1', commit: 0 }, entries(1, 2, 1));
  wal.close();
  // What a crash after write() and before fdatasync() can leave: whole records and a torn one.
  const unsynced = new RecordBatch().entry(entry(3, 1)).entry(entry(4, 1)).hardState({ term: 1, vote: '1', commit: 4 }).bytes();
  const torn = new RecordBatch().entry(entry(5, 1, 'never finished')).bytes();
  appendFileSync(lastSegment(dir), Buffer.concat([unsynced, torn.subarray(0, torn.length - 3)]));
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(view(opened.entries), view(entries(1, 4, 1)));
  assert.deepEqual(opened.hardState, { term: 1, vote: '1', commit: 4 });
  assert.equal(opened.repaired?.droppedBytes, torn.length - 3);
  assert.match(opened.repaired!.reason, /incomplete record/);
});

test('a zero-filled tail (file size extended, data lost) ends the log cleanly and is written over', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save(undefined, entries(1, 2, 1));
  wal.close();
  const file = lastSegment(dir);
  const recordsEnd = statSync(file).size;
  appendFileSync(file, new Uint8Array(4096));
  const opened = Wal.open(dir);
  assert.deepEqual(view(opened.entries), view(entries(1, 2, 1)));
  assert.equal(opened.repaired, undefined, 'nothing was written there, so nothing was dropped');
  // The next save goes right after the last record, not after the zeros.
  opened.wal.save(undefined, [entry(3, 1)]);
  opened.wal.close();
  const bytes = readFileSync(file);
  assert.equal(bytes.length, recordsEnd + 4096);
  const again = Wal.open(dir);
  again.wal.close();
  assert.deepEqual(view(again.entries), view(entries(1, 3, 1)));
  assert.equal(again.repaired, undefined);
});

test('a torn tail in a segment that is not the last is corruption', (t) => {
  const dir = walDir(t);
  const first = join(dir, segmentedLog(dir, 20)[0]!);
  const bytes = readFileSync(first);
  writeFileSync(first, bytes.subarray(0, bytes.length - 1));
  assert.throws(() => Wal.open(dir), isCorruption(first));
  writeFileSync(first, bytes);
  flipByte(first, bytes.length - 1);
  assert.throws(() => Wal.open(dir), isCorruption(first));
});

test('a missing, misplaced or foreign segment breaks the chain and is corruption', (t) => {
  const dir = walDir(t);
  const names = segmentedLog(dir, 40);
  assert.ok(names.length >= 4);
  const stash = join(dir, '..', 'stash');
  mkdirSync(stash);

  // Missing: a gap in the sequence.
  renameSync(join(dir, names[1]!), join(stash, names[1]!));
  assert.throws(() => Wal.open(dir), isCorruption(names[2]!));
  renameSync(join(stash, names[1]!), join(dir, names[1]!));

  // Misplaced: the name does not match the header inside.
  const wrongName = segmentFileName(2, 999);
  renameSync(join(dir, names[2]!), join(dir, wrongName));
  assert.throws(() => Wal.open(dir), isCorruption(wrongName));
  renameSync(join(dir, wrongName), join(dir, names[2]!));

  // Foreign: same name from another log whose history differs, so the CRC chain does not link.
  const other = join(dir, '..', 'other');
  const foreign = segmentedLog(other, 40, 7).find((n) => n.startsWith(names[2]!.slice(0, 16)));
  assert.ok(foreign, 'the other log has a segment with the same sequence');
  copyFileSync(join(dir, names[2]!), join(stash, names[2]!));
  rmSync(join(dir, names[2]!));
  copyFileSync(join(other, foreign), join(dir, foreign));
  assert.throws(() => Wal.open(dir), (err: unknown) => isCorruption(foreign)(err) && /crc chain broken/.test((err as Error).message));
  rmSync(join(dir, foreign));
  copyFileSync(join(stash, names[2]!), join(dir, names[2]!));

  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(view(opened.entries), view(entries(1, 40, 1)));
});

test('released segments are not mistaken for missing ones, but deleting a needed one is caught', (t) => {
  const dir = walDir(t);
  // Removing the oldest segment by hand (not through releaseBefore) leaves entries not covered by any snapshot.
  const first = segmentedLog(dir, 20)[0]!;
  rmSync(join(dir, first));
  assert.throws(() => Wal.open(dir), (err: unknown) => err instanceof WalCorruptionError && /segment is missing/.test(err.message));
});

test('an empty last segment (its header never made it to disk) is removed and the previous one continues', (t) => {
  const dir = walDir(t);
  const names = segmentedLog(dir, 12);
  const seq = names.length;
  const empty = join(dir, segmentFileName(seq, 13));
  writeFileSync(empty, new Uint8Array(5));
  const opened = Wal.open(dir, { segmentSizeBytes: 256 });
  assert.equal(opened.repaired?.file, empty);
  assert.match(opened.repaired!.reason, /without a header/);
  assert.deepEqual(segmentNames(dir), names);
  opened.wal.save(undefined, [entry(13, 1)]);
  opened.wal.close();
  const again = Wal.open(dir);
  again.wal.close();
  assert.deepEqual(view(again.entries), view(entries(1, 13, 1)));
});

test('open with a check: the check sees the state before the torn tail is cut, and a refusal leaves the file as it was', (t) => {
  const dir = walDir(t);
  const { file, lastBatchStart, size } = smallLog(dir);
  const torn = readFileSync(file).subarray(0, size - 3);
  writeFileSync(file, torn);
  let seen: { last: number; commit: number; paths: string[] } | undefined;
  assert.throws(() => Wal.open(dir, {
    check: (s) => {
      seen = { last: s.lastIndex, commit: s.state.hardState.commit, paths: s.segmentPaths };
      throw new Error('disagrees');
    },
  }), /disagrees/);
  assert.deepEqual(seen, { last: 4, commit: 1, paths: [file] });
  assert.deepEqual(readFileSync(file), torn, 'nothing repaired');
  const opened = Wal.open(dir, { check: () => undefined });
  opened.wal.close();
  assert.equal(opened.repaired?.offset, lastBatchStart + 8 + 1 + 17 + 'the last entry'.length);
  assert.equal(statSync(file).size, opened.repaired!.offset, 'repaired once the check passed');
});
