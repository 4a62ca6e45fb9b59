import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntryType } from '@deimos/protocol';
import { Wal } from '../../src/wal/index.js';
import { META, segmentNames, walDir } from './helpers.js';

// The exact bytes of a small log. If this test fails, the on-disk format changed: bump
// WAL_FORMAT_VERSION and keep reading the old version, or do not change it.
// Record = [u32 length][u32 crc32c][u8 type][payload], little-endian; length = 1 + payload bytes.
const SEGMENT_0 = [
  // segment header: version 1, seq 0, first index 1, prev crc 0
  '19000000 a362bbb8 01 01000000 0000000000000000 0100000000000000 00000000',
  // metadata: node 8e9e05c52164694d, cluster cdf818194e3a8c32
  '11000000 b4f56f03 02 4d696421c5059e8e 328c3a4e1918f8cd',
  // entry: term 1, index 1, Normal, no data (a leader's no-op)
  '12000000 9fcf5b5f 04 0100000000000000 0100000000000000 00',
  // entry: term 1, index 2, Normal, data {"a":1}
  '19000000 7081108a 04 0100000000000000 0200000000000000 00 7b2261223a317d',
  // hard state: term 1, vote 8e9e05c52164694d, commit 1
  '19000000 3d30e74c 03 0100000000000000 4d696421c5059e8e 0100000000000000',
  // snapshot marker: index 1, term 1, voters [8e9e05c52164694d], learners []
  '21000000 2efeef4f 05 0100000000000000 0100000000000000 01000000 4d696421c5059e8e 00000000',
];
const SEGMENT_1 = [
  // segment header: version 1, seq 1, first index 3, prev crc = the marker's crc above (the chain)
  '19000000 2d1535bf 01 01000000 0100000000000000 0300000000000000 2efeef4f',
  // the prologue repeats metadata, hard state and the latest snapshot marker
  '11000000 b4f56f03 02 4d696421c5059e8e 328c3a4e1918f8cd',
  '19000000 3d30e74c 03 0100000000000000 4d696421c5059e8e 0100000000000000',
  '21000000 2efeef4f 05 0100000000000000 0100000000000000 01000000 4d696421c5059e8e 00000000',
];

const hex = (records: string[]): string => records.join('').replaceAll(' ', '');

test('a small log has exactly the golden bytes', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 1, vote: META.nodeId, commit: 1 }, [
    { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) },
    { index: 2, term: 1, type: EntryType.Normal, data: new TextEncoder().encode('{"a":1}') },
  ]);
  wal.saveSnapshotMarker({ index: 1, term: 1, confState: { voters: [META.nodeId], learners: [] } });
  wal.close();
  const names = segmentNames(dir);
  assert.deepEqual(names, ['0000000000000000-0000000000000001.wal', '0000000000000001-0000000000000003.wal']);
  assert.equal(readFileSync(join(dir, names[0]!)).toString('hex'), hex(SEGMENT_0));
  assert.equal(readFileSync(join(dir, names[1]!)).toString('hex'), hex(SEGMENT_1));
});
