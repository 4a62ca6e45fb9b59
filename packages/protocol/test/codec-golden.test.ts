// Golden bytes pin the wire format: if one of these fails, the format changed, and old WAL files
// and mixed-version peers would misread it. Bump CODEC_FORMAT_VERSION instead of editing them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CODEC_FORMAT_VERSION, decodeEntry, decodeHardState, decodeMessage, encodeEntry, encodeHardState, encodeMessage,
  encodeUtf8, EntryType, makeMessage, MessageType, type Entry,
} from '../src/index.js';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string): Uint8Array => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));

const ENTRY: Entry = { term: 5, index: 300, type: EntryType.Normal, data: encodeUtf8('put /a=1') };

test('the format version is 1', () => {
  assert.equal(CODEC_FORMAT_VERSION, 1);
});

test('an entry encodes to its golden bytes and back', () => {
  const golden =
    '01' + '01' + // version 1, kind Entry
    '00' + // type Normal
    '05' + // term 5
    'ac02' + // index 300 as LEB128
    '08' + '707574202f613d31'; // data: length 8, "put /a=1"
  assert.equal(hex(encodeEntry(ENTRY)), golden);
  assert.deepEqual(decodeEntry(fromHex(golden)), ENTRY);
});

test('a MsgApp encodes to its golden bytes and back', () => {
  const m = makeMessage({
    type: MessageType.MsgApp, to: '2', from: 'ffffffffffffffff', term: 7, logTerm: 6, index: 299, commit: 298,
    entries: [ENTRY, { term: 7, index: 301, type: EntryType.ConfChange, data: new Uint8Array([0xde, 0xad]) }],
    context: new Uint8Array([0x01]),
  });
  const golden =
    '01' + '08' + // version 1, kind Message
    '03' + '00' + // MsgApp, flags: no reject, no snapshot
    '0000000000000002' + 'ffffffffffffffff' + // to, from
    '07' + '06' + 'ab02' + 'aa02' + '00' + // term, logTerm, index 299, commit 298, rejectHint
    '02' + // two entries
    '00' + '05' + 'ac02' + '08' + '707574202f613d31' +
    '01' + '07' + 'ad02' + '02' + 'dead' +
    '01' + '01'; // context
  assert.equal(hex(encodeMessage(m)), golden);
  assert.deepEqual(decodeMessage(fromHex(golden)), m);
});

test('a rejected MsgSnap with the largest term encodes to its golden bytes', () => {
  const m = makeMessage({
    type: MessageType.MsgSnap, to: '1', from: '100000000', term: 2 ** 53 - 1, reject: true,
    snapshot: { metadata: { index: 10, term: 2, confState: { voters: ['1', '2'], learners: [] } }, data: new Uint8Array([9]) },
  });
  const golden =
    '0108' + '07' + '03' + // MsgSnap, flags reject | snapshot
    '0000000000000001' + '0000000100000000' +
    'ffffffffffffff0f' + '00' + '00' + '00' + '00' + // term 2^53-1 in 8 bytes, then zeros
    '00' + '00' + // no entries, empty context
    '0a' + '02' + '02' + '0000000000000001' + '0000000000000002' + '00' + // metadata: index, term, voters, learners
    '0109'; // snapshot data
  assert.equal(hex(encodeMessage(m)), golden);
  assert.deepEqual(decodeMessage(fromHex(golden)), m);
});

test('a hard state encodes to its golden bytes', () => {
  const golden = '0103' + '03' + '000000000000000a' + '8001';
  assert.equal(hex(encodeHardState({ term: 3, vote: 'a', commit: 128 })), golden);
  assert.deepEqual(decodeHardState(fromHex(golden)), { term: 3, vote: 'a', commit: 128 });
});
