import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, MessageType, NONE, isEmptyHardState, hardStateEqual } from '../src/index.js';

test('makeMessage fills every field it is not given with its zero value', () => {
  const m = makeMessage({ type: MessageType.MsgApp, to: 'a', term: 3 });
  assert.equal(m.from, NONE);
  assert.equal(m.to, 'a');
  assert.equal(m.term, 3);
  assert.deepEqual(m.entries, []);
  assert.equal(m.reject, false);
  assert.equal(m.context.length, 0);
});

test('an empty hard state is recognised and hard states compare by value', () => {
  assert.ok(isEmptyHardState({ term: 0, vote: NONE, commit: 0 }));
  assert.ok(!isEmptyHardState({ term: 1, vote: NONE, commit: 0 }));
  assert.ok(hardStateEqual({ term: 2, vote: 'b', commit: 5 }, { term: 2, vote: 'b', commit: 5 }));
  assert.ok(!hardStateEqual({ term: 2, vote: 'b', commit: 5 }, { term: 2, vote: 'c', commit: 5 }));
});
