/**
 * WAL segments zero-filled ahead of their last record (`preallocateBytes`): where the zeros go, that
 * only the last segment keeps them, and that crashes into preallocated space recover like torn
 * writes at the end of a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wal, WalCorruptionError, scanSegment } from '../../src/wal/index.js';
import { META, entries, entry, flipByte, isCorruption, lastSegment, segmentNames, segmentedLog, view, walDir } from './helpers.js';

const CHUNK = 4096;
const MARKER = { index: 5, term: 1, confState: { voters: ['1'], learners: [] } };

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** A preallocated one-segment log: entries 1..3, then entry 4 in its own save; returns where that save starts. */
function preallocatedLog(dir: string): { file: string; lastSaveStart: number; recordsEnd: number } {
  const wal = Wal.create(dir, META, { preallocateBytes: CHUNK });
  wal.save({ term: 1, vote: '1', commit: 1 }, entries(1, 3, 1));
  const file = lastSegment(dir);
  const lastSaveStart = recordsEndOf(dir);
  wal.save({ term: 1, vote: '1', commit: 3 }, [entry(4, 1, 'the last entry')]);
  wal.close();
  return { file, lastSaveStart, recordsEnd: recordsEndOf(dir) };
}

/** Where the records of the last segment end (records can end in zero bytes, so the scanner decides). */
function recordsEndOf(dir: string): number {
  const scan = scanSegment(readFileSync(lastSegment(dir)));
  assert.equal(scan.end.kind, 'clean');
  return scan.validBytes;
}

test('a save that reaches past the zero-filled space extends the file by preallocateBytes beyond it', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { preallocateBytes: CHUNK });
  const file = lastSegment(dir);
  const prologue = statSync(file).size;
  wal.save(undefined, [entry(1, 1)]);
  const afterFirst = statSync(file).size;
  const firstEnd = recordsEndOf(dir);
  assert.ok(firstEnd > prologue);
  assert.equal(afterFirst, firstEnd + CHUNK, 'the first save extends the file past its end');
  assert.ok(isZero(readFileSync(file).subarray(firstEnd)));
  wal.save(undefined, [entry(2, 1)]);
  assert.equal(statSync(file).size, afterFirst, 'a save inside the zeros does not grow the file');
  // Fill past the zeros: the file grows again, by a whole chunk beyond the save's end.
  wal.save(undefined, [entry(3, 1, 'x'.repeat(2 * CHUNK))]);
  const end = recordsEndOf(dir);
  assert.equal(statSync(file).size, end + CHUNK);
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.equal(opened.repaired, undefined);
  assert.deepEqual(view(opened.entries), view([entry(1, 1), entry(2, 1), entry(3, 1, 'x'.repeat(2 * CHUNK))]));
});

test('a preallocated log reopens without repair, and appends continue right after its last record', (t) => {
  const dir = walDir(t);
  const { file, recordsEnd } = preallocatedLog(dir);
  const size = statSync(file).size;
  assert.ok(size > recordsEnd, 'the zeros stay after close');
  const opened = Wal.open(dir, { preallocateBytes: CHUNK });
  assert.equal(opened.repaired, undefined);
  assert.deepEqual(view(opened.entries), view([...entries(1, 3, 1), entry(4, 1, 'the last entry')]));
  opened.wal.save({ term: 2, vote: '2', commit: 4 }, [entry(5, 2)]);
  opened.wal.close();
  assert.equal(statSync(file).size, size, 'the save went into the zeros');
  const again = Wal.open(dir);
  again.wal.close();
  assert.equal(again.repaired, undefined);
  assert.deepEqual(view(again.entries).at(-1), [5, 2, 'e2.5']);
  assert.deepEqual(again.hardState, { term: 2, vote: '2', commit: 4 });
});

test('a cut ends the old segment at its last record: only the last segment holds zeros', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { preallocateBytes: CHUNK, segmentSizeBytes: 600 });
  for (let i = 1; i <= 30; i++) wal.save(undefined, [entry(i, 1)]);
  wal.saveSnapshotMarker(MARKER);
  wal.save(undefined, entries(31, 32, 1));
  wal.close();
  const names = segmentNames(dir);
  assert.ok(names.length >= 3, `size and marker cuts made ${names.length} segments`);
  for (const name of names.slice(0, -1)) {
    const bytes = readFileSync(join(dir, name));
    const scan = scanSegment(bytes);
    assert.equal(scan.zeroTailBytes, 0, `${name} has no zeros after its records`);
    assert.equal(scan.validBytes, bytes.length, `${name} ends at its last record`);
  }
  assert.ok(isZero(readFileSync(lastSegment(dir)).subarray(recordsEndOf(dir))));
  assert.ok(statSync(lastSegment(dir)).size > recordsEndOf(dir), 'the last segment keeps its zeros');
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.equal(opened.repaired, undefined);
  assert.deepEqual(opened.snapshot, MARKER);
  assert.deepEqual(view(opened.entries), view(entries(6, 32, 1)));
});

test('a save torn inside the zeros, at any byte, is truncated like a torn tail', (t) => {
  const dir = walDir(t);
  const { file, lastSaveStart, recordsEnd } = preallocatedLog(dir);
  const original = readFileSync(file);
  for (let cut = lastSaveStart + 1; cut < recordsEnd; cut++) {
    // A crash persisted the start of the last save and not the rest: zeros from `cut` on.
    const crashed = Buffer.from(original);
    crashed.fill(0, cut);
    writeFileSync(file, crashed);
    const opened = Wal.open(dir);
    opened.wal.close();
    assert.deepEqual(view(opened.entries).slice(0, 3), view(entries(1, 3, 1)), `cut ${cut}`);
    if (crashed.subarray(0, recordsEnd).equals(original.subarray(0, recordsEnd))) {
      // The bytes lost were zeros anyway (a record can end in zeros): nothing is torn.
      assert.equal(opened.repaired, undefined, `cut ${cut}`);
      assert.deepEqual(opened.hardState, { term: 1, vote: '1', commit: 3 }, `cut ${cut}`);
      continue;
    }
    const entryEnd = lastSaveStart + 8 + 1 + 17 + 'the last entry'.length;
    const entryWhole = cut >= entryEnd;
    assert.deepEqual(view(opened.entries).length, entryWhole ? 4 : 3, `cut ${cut}`);
    // At the boundary between the save's two records the rest is zeros: a clean end, nothing torn.
    assert.equal(opened.repaired?.offset, cut === entryEnd ? undefined : entryWhole ? entryEnd : lastSaveStart, `cut ${cut}`);
    assert.deepEqual(opened.hardState, { term: 1, vote: '1', commit: 1 }, `cut ${cut}: the torn hard state is not used`);
  }
});

test('a flipped byte in the last record before the zeros is a torn write; one in an earlier record is corruption', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { preallocateBytes: CHUNK });
  wal.save({ term: 1, vote: '1', commit: 1 }, entries(1, 3, 1));
  const lastSaveStart = recordsEndOf(dir);
  wal.save(undefined, [entry(4, 1, 'the last record')]);
  wal.close();
  const file = lastSegment(dir);
  const recordsEnd = recordsEndOf(dir);
  const original = readFileSync(file);
  for (let offset = lastSaveStart; offset < recordsEnd; offset++) {
    writeFileSync(file, original);
    flipByte(file, offset);
    const opened = Wal.open(dir);
    opened.wal.close();
    assert.deepEqual(view(opened.entries).slice(0, 3), view(entries(1, 3, 1)), `flipped byte ${offset}`);
    assert.ok(opened.repaired !== undefined, `flipped byte ${offset} is reported`);
  }
  for (let offset = 40; offset < lastSaveStart; offset += 11) {
    writeFileSync(file, original);
    flipByte(file, offset);
    assert.throws(() => Wal.open(dir), isCorruption(file), `flipped byte ${offset}`);
  }
});

test('zeros at the end of a segment that is not the last are corruption', (t) => {
  const dir = walDir(t);
  const names = segmentedLog(dir, 20);
  assert.ok(names.length >= 2);
  const first = join(dir, names[0]!);
  writeFileSync(first, Buffer.concat([readFileSync(first), new Uint8Array(CHUNK)]));
  assert.throws(() => Wal.open(dir), (err: unknown) => err instanceof WalCorruptionError && /not the last/.test(err.message));
});

test('preallocateBytes must be a non-negative integer', (t) => {
  const dir = walDir(t);
  assert.throws(() => Wal.create(dir, META, { preallocateBytes: -1 }), /preallocateBytes/);
  assert.throws(() => Wal.create(dir, META, { preallocateBytes: 1.5 }), /preallocateBytes/);
});
