import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, EntryType, type Entry } from '@deimos/protocol';
import {
  CompactedError, ConfChangeDecodeError, MemoryStorage, RaftLog, UnavailableError,
  confChangeFromBytes, confChangeToBytes, describeMessage,
} from '@deimos/raft';
import { makeMessage, MessageType } from '@deimos/protocol';
import { bytes } from './network.js';

function ents(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: EntryType.Normal, data: new Uint8Array(0) }));
}

function logWith(...terms: number[]): RaftLog {
  const s = new MemoryStorage();
  s.append(ents(...terms));
  return new RaftLog(s, Number.POSITIVE_INFINITY);
}

test('a conf change survives the byte encoding', () => {
  const cc = { type: ConfChangeType.AddLearnerNode, nodeId: 'abcdef0123456789', context: bytes('{"name":"x"}') };
  assert.deepEqual(confChangeFromBytes(confChangeToBytes(cc)), cc);
});

test('decoding rejects truncated or foreign conf change bytes', () => {
  const good = confChangeToBytes({ type: ConfChangeType.AddNode, nodeId: '2', context: bytes('ctx') });
  assert.throws(() => confChangeFromBytes(good.subarray(0, good.length - 1)), ConfChangeDecodeError);
  assert.throws(() => confChangeFromBytes(new Uint8Array([9, 0, 1, 0x32, 0, 0, 0, 0])), ConfChangeDecodeError);
  assert.throws(() => confChangeToBytes({ type: ConfChangeType.AddNode, nodeId: 'XYZ', context: new Uint8Array(0) }));
});

test('MemoryStorage.append truncates a conflicting tail', () => {
  const s = new MemoryStorage();
  s.append(ents(1, 1, 1, 1));
  s.append([{ term: 2, index: 3, type: EntryType.Normal, data: new Uint8Array(0) }]);
  assert.equal(s.lastIndex(), 3);
  assert.equal(s.term(3), 2);
  assert.throws(() => s.term(4), UnavailableError);
  assert.throws(() => s.append([{ term: 2, index: 9, type: EntryType.Normal, data: new Uint8Array(0) }]));
});

test('MemoryStorage.entries returns at least one entry within the size limit', () => {
  const s = new MemoryStorage();
  s.append([1, 2, 3].map((i) => ({ term: 1, index: i, type: EntryType.Normal, data: new Uint8Array(100) })));
  assert.equal(s.entries(1, 4, 0).length, 1);
  assert.equal(s.entries(1, 4, 250).length, 2);
  assert.equal(s.entries(1, 4, Number.POSITIVE_INFINITY).length, 3);
});

test('bootstrap records the initial configuration at index 0', () => {
  const s = new MemoryStorage();
  s.bootstrap({ voters: ['1', '2'], learners: ['3'] });
  assert.deepEqual(s.initialState().confState, { voters: ['1', '2'], learners: ['3'] });
  assert.equal(s.lastIndex(), 0);
  assert.equal(s.firstIndex(), 1);
  s.append(ents(1));
  assert.throws(() => s.bootstrap({ voters: ['1'], learners: [] }));
});

test('findConflict finds the first new or conflicting entry', () => {
  const log = logWith(1, 2, 3);
  assert.equal(log.findConflict(ents(1, 2, 3)), 0);
  assert.equal(log.findConflict(ents(1, 2, 3, 4)), 4);
  assert.equal(log.findConflict(ents(1, 4)), 2);
});

test('findConflictByTerm skips every entry of a newer term', () => {
  const log = logWith(1, 1, 2, 2, 2, 5, 5);
  assert.deepEqual(log.findConflictByTerm(7, 4), { index: 5, term: 2 });
  assert.deepEqual(log.findConflictByTerm(7, 5), { index: 7, term: 5 });
  assert.deepEqual(log.findConflictByTerm(5, 1), { index: 2, term: 1 });
  assert.deepEqual(log.findConflictByTerm(5, 0), { index: 0, term: 0 });
});

test('maybeAppend refuses a mismatching previous entry and truncates conflicts', () => {
  const log = logWith(1, 1, 1);
  assert.equal(log.maybeAppend(3, 2, 3, ents(1, 1, 1, 2).slice(3)), undefined);
  const appended = log.maybeAppend(1, 1, 2, [{ term: 3, index: 2, type: EntryType.Normal, data: new Uint8Array(0) }]);
  assert.equal(appended, 2);
  assert.equal(log.lastIndex(), 2);
  assert.equal(log.term(2), 3);
  assert.equal(log.committed, 2);
});

test('a committed entry can never be overwritten', () => {
  const log = logWith(1, 1, 1);
  log.commitTo(3);
  assert.throws(() => log.maybeAppend(1, 1, 3, [{ term: 2, index: 2, type: EntryType.Normal, data: new Uint8Array(0) }]));
});

test('only an entry of the current term commits by counting', () => {
  const log = logWith(1, 1, 2);
  assert.equal(log.maybeCommit(2, 2), false);
  assert.equal(log.maybeCommit(3, 2), true);
  assert.equal(log.committed, 3);
});

test('the up-to-date check compares last term, then last index', () => {
  const log = logWith(1, 2, 2);
  assert.equal(log.isUpToDate(1, 3), true);
  assert.equal(log.isUpToDate(3, 2), true);
  assert.equal(log.isUpToDate(2, 2), false);
  assert.equal(log.isUpToDate(9, 1), false);
});

test('the raft log reads across storage and the unstable tail and reports compaction', () => {
  const s = new MemoryStorage();
  s.append(ents(1, 1, 1, 1));
  s.createSnapshot(2, { voters: ['1'], learners: [] }, new Uint8Array(0));
  s.compact(2);
  const log = new RaftLog(s, Number.POSITIVE_INFINITY);
  log.append([{ term: 2, index: 5, type: EntryType.Normal, data: new Uint8Array(0) }]);
  assert.deepEqual(log.slice(3, 6, Number.POSITIVE_INFINITY).map((e) => e.term), [1, 1, 2]);
  assert.throws(() => log.slice(2, 4, Number.POSITIVE_INFINITY), CompactedError);
  assert.equal(log.term(2), 1);
  assert.throws(() => log.term(1), CompactedError);
  assert.equal(log.termOrZero(9), 0);
});

test('describeMessage prints a one-line summary', () => {
  const line = describeMessage(makeMessage({
    type: MessageType.MsgApp, from: '1', to: '2', term: 3, index: 4, logTerm: 2, commit: 4,
    entries: [{ term: 3, index: 5, type: EntryType.Normal, data: bytes('abc') }],
  }));
  assert.equal(line, 'MsgApp 1->2 term=3 logTerm=2 index=4 commit=4 entries=[3/5 Normal 3B]');
});
