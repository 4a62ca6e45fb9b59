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
