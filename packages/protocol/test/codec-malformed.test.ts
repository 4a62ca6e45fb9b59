import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ByteReader, ByteWriter, CodecError, decodeConfChange, decodeEntries, decodeEntry, decodeHardState, decodeMessage,
  decodeMessageBatch, decodeSnapshot, decodeUtf8, encodeConfChange, encodeEntries, encodeEntry, encodeHardState,
  encodeMessage, encodeMessageBatch, encodeSnapshot, EntryType, makeMessage, MessageType,
} from '../src/index.js';
import { Prng, randomConfChange, randomEntries, randomHardState, randomMessage, randomSnapshot } from './support/random-raft.js';

const isCodecError = (err: unknown): boolean => err instanceof CodecError && err.code === 'ERR_CODEC';

/** Encoders paired with their decoders, each with a seeded generator of values. */
const KINDS = [
  { name: 'message', gen: randomMessage, encode: encodeMessage, decode: decodeMessage },
  { name: 'batch', gen: (rng: Prng) => [randomMessage(rng), randomMessage(rng)], encode: encodeMessageBatch, decode: decodeMessageBatch },
  { name: 'entries', gen: (rng: Prng) => randomEntries(rng, 8), encode: encodeEntries, decode: decodeEntries },
  { name: 'hard state', gen: randomHardState, encode: encodeHardState, decode: decodeHardState },
  { name: 'conf change', gen: randomConfChange, encode: encodeConfChange, decode: decodeConfChange },
  { name: 'snapshot', gen: randomSnapshot, encode: encodeSnapshot, decode: decodeSnapshot },
] as const;

function withByte(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}

test('a CodecError is an Error with the stable code ERR_CODEC', () => {
  const err = new CodecError('x');
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'ERR_CODEC');
  assert.equal(err.name, 'CodecError');
});

test('every truncation of a valid encoding throws a CodecError', () => {
  const rng = new Prng(42);
  for (const kind of KINDS) {
    for (let i = 0; i < 30; i++) {
      const bytes = (kind.encode as (v: unknown) => Uint8Array)(kind.gen(rng));
      // Cap the prefixes checked per value so megabyte payloads stay quick.
      const step = Math.max(1, Math.floor(bytes.length / 400));
      for (let n = 0; n < bytes.length; n += step) {
        assert.throws(() => kind.decode(bytes.subarray(0, n)), isCodecError, `${kind.name} cut to ${n} of ${bytes.length} bytes`);
      }
    }
  }
});

test('random byte corruption either decodes or throws a CodecError, never anything else', () => {
  const rng = new Prng(7);
  for (let i = 0; i < 3000; i++) {
    const kind = rng.pick(KINDS);
    const bytes = (kind.encode as (v: unknown) => Uint8Array)(kind.gen(rng)).slice();
    const flips = 1 + rng.int(4);
    for (let f = 0; f < flips; f++) bytes[rng.int(bytes.length)] = rng.int(256);
    try {
      kind.decode(bytes);
    } catch (err) {
      assert.ok(isCodecError(err), `${kind.name} case ${i} threw ${String(err)}`);
    }
  }
});

test('random garbage after a valid header throws a CodecError or decodes, and never hangs', () => {
  const rng = new Prng(99);
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(2 + rng.int(64)).map(() => rng.int(256));
    bytes[0] = 1;
    bytes[1] = 1 + rng.int(9);
    for (const kind of KINDS) {
      try {
        kind.decode(bytes);
      } catch (err) {
        assert.ok(isCodecError(err), `${kind.name} threw ${String(err)}`);
      }
    }
  }
});

test('an unknown format version is rejected with a message that names it', () => {
  const bytes = withByte(encodeHardState({ term: 1, vote: '1', commit: 1 }), 0, 2);
  assert.throws(() => decodeHardState(bytes), (err) => isCodecError(err) && /version 2/.test((err as Error).message));
});

test('bytes of one record kind are refused by the decoder of another', () => {
  const entry = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) });
  assert.throws(() => decodeMessage(entry), (err) => isCodecError(err) && /expected a Message record, found kind Entry/.test((err as Error).message));
});

test('trailing bytes after a record are rejected', () => {
  const bytes = encodeHardState({ term: 1, vote: '1', commit: 1 });
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => decodeHardState(longer), (err) => isCodecError(err) && /trailing/.test((err as Error).message));
});

test('unknown message types, entry types and flags are rejected', () => {
  const m = encodeMessage(makeMessage({ type: MessageType.MsgApp, entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) }] }));
  assert.throws(() => decodeMessage(withByte(m, 2, 19)), /unknown message type 19/);
  assert.throws(() => decodeMessage(withByte(m, 3, 4)), /unknown message flags/);
  const entryTypeAt = 2 + 2 + 16 + 5 + 1;
  assert.throws(() => decodeMessage(withByte(m, entryTypeAt, 2)), /unknown entry type 2/);
});

test('a huge count or length fails before allocating anything', () => {
  // An entries record claiming 2^53-1 entries in a handful of bytes.
  const claim = new Uint8Array([1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.throws(() => decodeEntries(claim), (err) => isCodecError(err) && /exceeds the 0 bytes remaining/.test((err as Error).message));
  // An entry whose data claims 1 GiB.
  const w = new ByteWriter();
  w.writeUint8(1); w.writeUint8(1); w.writeUint8(0); w.writeVarint(1); w.writeVarint(1); w.writeVarint(2 ** 30);
  assert.throws(() => decodeEntry(w.finish()), /length 1073741824 .* exceeds/);
});

test('overlong, non-minimal and out-of-range varints are rejected', () => {
  const read = (bytes: number[]): number => new ByteReader(new Uint8Array(bytes)).readVarint();
  assert.throws(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), /longer than 8 bytes/);
  assert.throws(() => read([0x80, 0x00]), /non-minimal/);
  assert.throws(() => read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10]), /exceeds 2\^53-1/);
  assert.throws(() => read([0x80]), /truncated/);
  assert.equal(read([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), 2 ** 53 - 1);
});

test('malformed UTF-8 and booleans are rejected', () => {
  const bad = [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xff], [0xe2, 0x28, 0xa1]];
  for (const seq of bad) assert.throws(() => decodeUtf8(new Uint8Array(seq)), isCodecError, `bytes ${seq.join(',')}`);
  // The same inside long text (decoded by the platform's decoder), and the error names the offset.
  const text = new Array(100).fill(0x61);
  for (const seq of bad) {
    assert.throws(() => decodeUtf8(new Uint8Array([...text, ...seq, ...text])), (err) => isCodecError(err) && /offset 10\d/.test((err as Error).message), `long, bytes ${seq.join(',')}`);
  }
  assert.throws(() => new ByteReader(new Uint8Array([2])).readBool(), /invalid boolean/);
});

test('values the format cannot represent are refused at encode time', () => {
  const badIds = ['', 'A', '00', '01', 'x', '1'.repeat(17), '-1', ' 1'];
  for (const id of badIds) {
    assert.throws(() => encodeHardState({ term: 1, vote: id, commit: 0 }), (err) => isCodecError(err) && /invalid NodeId/.test((err as Error).message), JSON.stringify(id));
  }
  for (const n of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) {
    assert.throws(() => encodeHardState({ term: n, vote: '1', commit: 0 }), isCodecError, String(n));
  }
  assert.throws(() => encodeMessage(makeMessage({ type: 99 as MessageType })), /unknown message type 99/);
  assert.throws(() => encodeEntry({ term: 1, index: 1, type: 5 as EntryType, data: new Uint8Array(0) }), /unknown entry type 5/);
});
