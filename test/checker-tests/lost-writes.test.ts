import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNoLostWrites } from '../chaos/checker/index.js';
import { HistoryBuilder } from './history-builder.js';

test('accepts the value of the last acknowledged write', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(2, 20, 30, 'b');
  h.read(3, 40, 41, 'b');
  assert.deepEqual(checkNoLostWrites(h.ops, { k: 'b' }), { ok: true, problems: [] });
  assert.equal(checkNoLostWrites(h.ops, new Map([['k', 'b']])).ok, true);
});

test('accepts either of two concurrent last writes', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(2, 5, 15, 'b');
  assert.equal(checkNoLostWrites(h.ops, { k: 'a' }).ok, true);
  assert.equal(checkNoLostWrites(h.ops, { k: 'b' }).ok, true);
});

test('rejects a final value overwritten by a later acknowledged write', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(2, 20, 30, 'b');
  const result = checkNoLostWrites(h.ops, { k: 'a' });
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems[0]?.allowed, ['b']);
  assert.match(result.problems[0]?.message ?? '', /key k ends as 'a', .*#2 c2 write\(k, 'b'\)/);
});

test('rejects a missing key after an acknowledged write and accepts it after a delete', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  assert.equal(checkNoLostWrites(h.ops, {}).ok, false);
  h.delete(1, 20, 30);
  assert.equal(checkNoLostWrites(h.ops, {}).ok, true);
  assert.equal(checkNoLostWrites(h.ops, { k: null }).ok, true);
});

test('allows the effect of unknown mutations and ignores definite failures', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'a');
  h.write(2, 20, 30, 'maybe', 'unknown');
  h.cas(3, 40, 50, 'zzz', 'never', 101);
  assert.equal(checkNoLostWrites(h.ops, { k: 'maybe' }).ok, true);
  assert.equal(checkNoLostWrites(h.ops, { k: 'a' }).ok, true);
  assert.equal(checkNoLostWrites(h.ops, { k: 'never' }).ok, false);
});

test('accepts the initial value when no mutation was acknowledged', () => {
  const h = new HistoryBuilder();
  h.write(1, 0, 10, 'x', 'unknown');
  assert.equal(checkNoLostWrites(h.ops, { k: 'init' }, { initialValues: { k: 'init' } }).ok, true);
  assert.equal(checkNoLostWrites(h.ops, {}).ok, true);
  assert.equal(checkNoLostWrites(h.ops, { k: 'other' }).ok, false);
});
