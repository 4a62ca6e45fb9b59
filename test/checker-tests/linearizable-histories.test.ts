import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, type Operation } from '../chaos/checker/index.js';
import { HistoryBuilder } from './history-builder.js';

function assertLinearizable(ops: readonly Operation[], initialValues?: Record<string, string>): void {
  const result = checkLinearizability(ops, { initialValues });
  assert.equal(result.verdict, 'linearizable', JSON.stringify(result, null, 2));
  assert.equal(result.ok, true);
}

test('accepts an empty history', () => {
  const result = checkLinearizability([]);
  assert.deepEqual(result, { ok: true, verdict: 'linearizable', partitions: [] });
});

test('accepts sequential writes and reads', () => {
  const h = new HistoryBuilder();
  h.read(1, 0, 1, null);
  h.write(1, 2, 3, 'a');
  h.read(2, 4, 5, 'a');
  h.write(2, 6, 7, 'b');
  h.read(1, 8, 9, 'b');
  assertLinearizable(h.ops);
});

test('accepts concurrent writes with reads that see either order', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 100, 'a');
  h.write(2, 0, 100, 'b');
  h.read(3, 10, 20, 'b');
  h.read(4, 30, 40, 'a');
  h.read(3, 50, 60, 'a');
  h.read(5, 110, 120, 'a');
  assertLinearizable(h.ops);
});

test('accepts a read concurrent with a write that returns the old or the new value', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 5, 'a');
  h.write(1, 10, 30, 'b');
  h.read(2, 12, 20, 'a');
  h.read(3, 12, 20, 'b');
  assertLinearizable(h.ops);
});

test('treats touching intervals on a millisecond clock as concurrent', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.read(2, 10, 12, null);
  assertLinearizable(h.ops);
});

test('accepts a CAS chain with failures that observed the right values', () => {
  const h = new HistoryBuilder();
  h.create(1, 0, 1, 'a');
  h.create(2, 2, 3, 'x', 105);
  h.cas(1, 4, 10, 'a', 'b');
  h.cas(2, 5, 11, 'a', 'c', 101);
  h.cas(3, 12, 13, 'b', 'c');
  h.read(1, 14, 15, 'c');
  h.delete(2, 16, 17);
  h.delete(3, 18, 19, 100);
  h.cas(1, 20, 21, 'c', 'd', 100);
  h.read(2, 22, 23, null);
  assertLinearizable(h.ops);
});

test('accepts an unknown write that took effect', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 1, 'a');
  h.write(2, 2, 3, 'b', 'unknown');
  h.read(3, 50, 51, 'b');
  assertLinearizable(h.ops);
});

test('accepts an unknown write that took effect long after its client gave up', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 1, 'a');
  h.write(2, 2, 3, 'b', 'unknown');
  h.read(3, 50, 51, 'a');
  h.read(3, 60, 61, 'b');
  assertLinearizable(h.ops);
});

test('accepts an unknown write that never took effect', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 1, 'a');
  h.write(2, 2, 3, 'b', 'unknown');
  h.read(3, 50, 51, 'a');
  h.write(1, 60, 61, 'c');
  h.read(3, 70, 71, 'c');
  assertLinearizable(h.ops);
});

test('accepts unknown CAS and delete operations either way', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 1, 'a');
  h.cas(2, 2, 3, 'a', 'b', 'unknown');
  h.delete(3, 4, 5, 'unknown');
  h.read(1, 10, 11, 'b');
  h.read(1, 12, 13, null);
  h.create(1, 14, 15, 'c');
  h.read(2, 16, 17, 'c');
  assertLinearizable(h.ops);
});

test('treats a failure with a raft-level error code as unknown', () => {
  const h = new HistoryBuilder();
  const w = h.write(1, 0, 5, 'a');
  w.outcome = 'fail';
  w.output = { errorCode: 300 };
  h.read(2, 10, 11, 'a');
  assertLinearizable(h.ops);
});

test('ignores unknown reads and accepts reads of missing keys reported as ok null', () => {
  const h = new HistoryBuilder();
  h.read(1, 0, 1, 'unknown');
  const r = h.read(1, 2, 3, 'zzz');
  r.output = { value: null };
  assertLinearizable(h.ops);
});

test('starts from the given initial values', () => {
  const h = new HistoryBuilder();
  h.read(1, 0, 1, 'init');
  h.cas(1, 2, 3, 'init', 'a');
  assertLinearizable(h.ops, { k: 'init' });
});

test('checks keys independently and reports each partition', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a', 'ok', 'x');
  h.write(2, 0, 10, 'b', 'ok', 'y');
  h.read(1, 11, 12, 'a', 'x');
  h.read(2, 11, 12, 'b', 'y');
  h.read(2, 13, 14, null, 'z');
  const result = checkLinearizability(h.ops);
  assert.equal(result.ok, true);
  assert.deepEqual(result.partitions.map((p) => [p.key, p.opsCount, p.ok]), [['x', 2, true], ['y', 2, true], ['z', 1, true]]);
});
