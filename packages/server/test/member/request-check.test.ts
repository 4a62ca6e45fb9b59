/** The check of a committed keys request before it is applied (a replicated entry is input too). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicatedRequest } from '@deimos/protocol';
import { replicatedRequestProblem } from '../../src/member/request-check.js';

const cad = (extra: Record<string, unknown>): ReplicatedRequest =>
  ({ op: 'compareAndDelete', id: 'r1', path: '/a', prevIndex: 18446744073709551615, ...extra }) as ReplicatedRequest;

test('a large prevIndex may carry its digits; anything else there is refused', () => {
  assert.equal(replicatedRequestProblem(cad({})), undefined);
  assert.equal(replicatedRequestProblem(cad({ prevIndexText: '18446744073709551615' })), undefined);
  for (const bad of [12, '', '12', '0018446744073709551615', '1844674407370955161x', '184467440737095516150', null]) {
    assert.match(replicatedRequestProblem(cad({ prevIndexText: bad })) ?? '', /prevIndexText/, String(bad));
  }
});

test('a delete may carry its time (entries of older builds have none); a time that is not one is refused', () => {
  const del = (extra: Record<string, unknown>): ReplicatedRequest =>
    ({ op: 'delete', id: 'r2', path: '/a', dir: false, recursive: false, ...extra }) as ReplicatedRequest;
  for (const make of [del, cad]) {
    assert.equal(replicatedRequestProblem(make({})), undefined);
    assert.equal(replicatedRequestProblem(make({ timeMs: 1_800_000_000_000 })), undefined);
    for (const bad of ['1', null, Number.NaN, Infinity, 1e16]) {
      assert.match(replicatedRequestProblem(make({ timeMs: bad })) ?? '', /timeMs/, String(bad));
    }
  }
});
