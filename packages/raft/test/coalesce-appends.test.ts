import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, makeMessage, type Entry } from '@deimos/protocol';
import { coalesceAppends } from '../src/coalesce-appends.js';

const ent = (index: number, term = 2): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(10) });
const app = (to: string, prevIndex: number, entries: Entry[], commit = 0) =>
  makeMessage({ type: MessageType.MsgApp, from: '1', to, term: 2, index: prevIndex, logTerm: 2, entries, commit });

test('contiguous appends to one follower become one message with every entry and the highest commit', () => {
  const out = coalesceAppends([app('2', 5, [ent(6)], 4), app('3', 5, [ent(6)]), app('2', 6, [ent(7)], 5), app('3', 6, [ent(7)])], 1 << 20);
  assert.equal(out.length, 2);
  assert.deepEqual(out[0]!.entries.map((e) => e.index), [6, 7]);
  assert.equal(out[0]!.commit, 5);
  assert.equal(out[1]!.to, '3');
  assert.deepEqual(out[1]!.entries.map((e) => e.index), [6, 7]);
});

test('appends are not merged across another message to the same follower, a gap, or the size limit', () => {
  const hb = makeMessage({ type: MessageType.MsgHeartbeat, from: '1', to: '2', term: 2 });
  assert.equal(coalesceAppends([app('2', 5, [ent(6)]), hb, app('2', 6, [ent(7)])], 1 << 20).length, 3);
  assert.equal(coalesceAppends([app('2', 5, [ent(6)]), app('2', 7, [ent(8)])], 1 << 20).length, 2);
  assert.equal(coalesceAppends([app('2', 5, [ent(6)]), app('2', 6, [ent(7)])], 30).length, 2);
});

test('merging never mutates the messages it was given', () => {
  const first = app('2', 5, [ent(6)]);
  coalesceAppends([first, app('2', 6, [ent(7)])], 1 << 20);
  assert.equal(first.entries.length, 1);
});
