import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotOffset } from '../../src/member/compactor.js';

test('snapshot offsets are deterministic per member, below half the snapshot count, and differ between members', () => {
  const ids = ['24aa3c37986018ed', '35f407d71bfef06e', '70fda272bed5bc50'];
  const offsets = ids.map((id) => snapshotOffset(id, 10_000));
  for (const o of offsets) assert.ok(Number.isInteger(o) && o >= 0 && o < 5_000, `offset ${o}`);
  assert.deepEqual(ids.map((id) => snapshotOffset(id, 10_000)), offsets, 'the same ID gives the same offset');
  assert.equal(new Set(offsets).size, ids.length, 'these members snapshot at different points');
});

test('a snapshot count too small to spread gives offset 0', () => {
  assert.equal(snapshotOffset('ffffffffffffffff', 1), 0);
  assert.equal(snapshotOffset('ffffffffffffffff', 0), 0);
});
