import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability, InvalidHistoryError, type Operation, type PartitionResult } from '../chaos/checker/index.js';
import { HistoryBuilder } from './history-builder.js';

function assertViolation(ops: readonly Operation[]): PartitionResult {
  const result = checkLinearizability(ops);
  assert.equal(result.verdict, 'violation', JSON.stringify(result, null, 2));
  assert.equal(result.ok, false);
  const bad = result.partitions.filter((p) => p.verdict === 'violation');
  assert.equal(bad.length, 1);
  const partition = bad[0] as PartitionResult;
  assert.ok(partition.explanation !== undefined);
  return partition;
}

test('rejects a stale read after a completed write', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(1, 20, 30, 'b');
  const stale = h.read(2, 40, 50, 'a');
  h.read(3, 60, 70, 'b');
  const p = assertViolation(h.ops);
  assert.match(p.explanation as string, new RegExp(`smallest failing prefix ends when #${stale.id} completes at 50ms`));
  assert.match(p.explanation as string, /observed 'a', but #2 c1 write\(k, 'b'\) = ok .* had already written 'b' before it began/);
  assert.match(p.explanation as string, /definitely been overwritten/);
});

test('rejects a lost write: acknowledged, then never visible while reads see the previous value', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 5, 'a');
  h.read(2, 6, 7, 'a');
  h.write(3, 10, 20, 'b');
  h.read(2, 30, 31, 'a');
  h.read(1, 40, 41, 'a');
  const p = assertViolation(h.ops);
  assert.match(p.explanation as string, /ends when #4 completes at 31ms/);
  assert.match(p.explanation as string, /#3 c3 write\(k, 'b'\) = ok at \[10, 20\]ms/);
});

test('rejects a CAS that succeeded on a value that was no longer current', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 5, 'a');
  h.write(2, 10, 15, 'b');
  h.cas(3, 20, 25, 'a', 'c');
  const p = assertViolation(h.ops);
  assert.match(p.explanation as string, /#3 c3 cas\(k, 'a' -> 'c'\) = ok at \[20, 25\]ms observed 'a'/);
});

test('rejects a failed CAS whose compare could not have failed', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 5, 'a');
  h.cas(2, 10, 15, 'a', 'b', 101);
  const p = assertViolation(h.ops);
  assert.match(p.explanation as string, /#2 c2 cas\(k, 'a' -> 'b'\) = fail\(101\) .* cannot be placed/);
});

test('rejects a read of a value never written', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 5, 'a');
  h.read(2, 10, 15, 'ghost');
  const p = assertViolation(h.ops);
  assert.match(p.explanation as string, /observed 'ghost', a value no operation that could precede it ever wrote/);
});

test('rejects a read of a value whose only write started after the read completed', () => {
  const h = new HistoryBuilder();
  h.read(1, 0, 5, 'a');
  h.write(2, 10, 15, 'a');
  assertViolation(h.ops);
});

test('rejects non-monotonic reads across clients in real time', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(2, 20, 100, 'b');
  h.read(3, 30, 40, 'b');
  h.read(4, 50, 60, 'a');
  const p = assertViolation(h.ops);
  assert.match(p.explanation as string, /ends when #4 completes at 60ms/);
  assert.match(p.explanation as string, /#3 c3 read\(k\) = 'b' .* had already observed 'b'/);
});

test('rejects a definite CAS chain broken by two successes on the same expected value', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 1, 'a');
  h.cas(2, 2, 10, 'a', 'b');
  h.cas(3, 2, 10, 'a', 'c');
  assertViolation(h.ops);
});

test('rejects a create that succeeded on an existing key and a delete that found nothing after a write', () => {
  const created = new HistoryBuilder();
  created.write(1, 0, 1, 'a');
  created.create(2, 2, 3, 'b');
  assertViolation(created.ops);
  const deleted = new HistoryBuilder();
  deleted.write(1, 0, 1, 'a');
  deleted.delete(2, 2, 3, 100);
  assertViolation(deleted.ops);
});

test('does not let an unknown write explain a read that ended before it began', () => {
  const h = new HistoryBuilder();
  h.read(1, 0, 5, 'b');
  h.write(2, 10, 20, 'b', 'unknown');
  assertViolation(h.ops);
});

test('reports only the violated key when other keys are fine', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a', 'ok', 'good');
  h.read(1, 20, 30, 'a', 'good');
  h.write(1, 0, 10, 'a', 'ok', 'bad');
  h.read(1, 20, 30, null, 'bad');
  const result = checkLinearizability(h.ops);
  assert.deepEqual(result.partitions.map((p) => [p.key, p.verdict]), [['bad', 'violation'], ['good', 'linearizable']]);
});

test('reports an undecided key when the step budget runs out', () => {
  const h = new HistoryBuilder();
  for (let i = 0; i < 12; i++) h.write(i, 0, 100, `w${i}`);
  h.read(99, 200, 201, 'nope');
  const result = checkLinearizability(h.ops, { maxStepsPerPartition: 50 });
  assert.equal(result.verdict, 'unknown');
  assert.equal(result.ok, false);
  assert.match(result.partitions[0]?.explanation ?? '', /gave up after 50 steps/);
});

test('throws on malformed records and duplicate ids', () => {
  const h = new HistoryBuilder();
  const w = h.write(1, 0, 10, 'a');
  assert.throws(() => checkLinearizability([w, w]), InvalidHistoryError);
  assert.throws(() => checkLinearizability([{ ...w, completeMs: undefined }]), /needs completeMs/);
  assert.throws(() => checkLinearizability([{ ...w, completeMs: -1 }]), /before invokeMs/);
  assert.throws(() => checkLinearizability([{ ...w, input: {} }]), /needs input.value/);
});
