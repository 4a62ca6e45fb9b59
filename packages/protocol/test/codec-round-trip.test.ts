import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ByteReader, ByteWriter, decodeConfChange, decodeConfState, decodeEntries, decodeEntry, decodeHardState,
  decodeMessage, decodeMessageBatch, decodeSnapshot, decodeSnapshotMetadata, decodeUtf8, encodeConfChange,
  encodeConfState, encodeEntries, encodeEntry, encodeHardState, encodeMessage, encodeMessageBatch,
  encodeSnapshot, encodeSnapshotMetadata, encodeUtf8, makeMessage, MessageType,
} from '../src/index.js';
import {
  Prng, randomConfChange, randomConfState, randomEntries, randomEntry, randomHardState, randomMessage,
  randomNodeId, randomNumber, randomSnapshot, randomString,
} from './support/random-raft.js';

const SEED = 0xdeadbeef;

/** Runs `check` on `count` seeded cases and names the failing case so it can be replayed. */
function forAll<T>(count: number, seed: number, gen: (rng: Prng) => T, check: (value: T) => void): void {
  const rng = new Prng(seed);
  for (let i = 0; i < count; i++) {
    const value = gen(rng);
    try {
      check(value);
    } catch (err) {
      throw new Error(`property failed at case ${i} of seed ${seed}: ${(err as Error).message}`, { cause: err });
    }
  }
}

test('thousands of random messages survive an encode/decode round trip', () => {
  forAll(3000, SEED, randomMessage, (m) => assert.deepEqual(decodeMessage(encodeMessage(m)), m));
});

test('random message batches survive a round trip, including the empty batch', () => {
  forAll(300, SEED + 1, (rng) => Array.from({ length: rng.int(12) }, () => randomMessage(rng)), (ms) => {
    assert.deepEqual(decodeMessageBatch(encodeMessageBatch(ms)), ms);
  });
  assert.deepEqual(decodeMessageBatch(encodeMessageBatch([])), []);
});

test('thousands of random entries and entry batches survive a round trip', () => {
  forAll(5000, SEED + 2, randomEntry, (e) => assert.deepEqual(decodeEntry(encodeEntry(e)), e));
  forAll(500, SEED + 3, (rng) => randomEntries(rng, 64), (es) => assert.deepEqual(decodeEntries(encodeEntries(es)), es));
});

test('hard states, configurations, conf changes and snapshots survive a round trip', () => {
  forAll(2000, SEED + 4, randomHardState, (hs) => assert.deepEqual(decodeHardState(encodeHardState(hs)), hs));
  forAll(2000, SEED + 5, randomConfState, (cs) => assert.deepEqual(decodeConfState(encodeConfState(cs)), cs));
  forAll(2000, SEED + 6, randomConfChange, (cc) => assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc));
  forAll(300, SEED + 7, randomSnapshot, (s) => {
    assert.deepEqual(decodeSnapshot(encodeSnapshot(s)), s);
    assert.deepEqual(decodeSnapshotMetadata(encodeSnapshotMetadata(s.metadata)), s.metadata);
  });
});

test('encoding is deterministic: equal values give equal bytes', () => {
  forAll(500, SEED + 8, randomMessage, (m) => {
    const copy = decodeMessage(encodeMessage(m));
    assert.deepEqual(encodeMessage(copy), encodeMessage(m));
  });
});

test('a message with every field at its zero value and one at the maximum both round trip', () => {
  const zero = makeMessage({ type: MessageType.MsgHup });
  assert.deepEqual(decodeMessage(encodeMessage(zero)), zero);
  const max = 2 ** 53 - 1;
  const big = makeMessage({
    type: MessageType.MsgPreVoteResp, to: 'ffffffffffffffff', from: '1', term: max, logTerm: max, index: max,
    commit: max, rejectHint: max, reject: true, entries: [{ term: max, index: max, type: 1, data: new Uint8Array(3 << 20) }],
    snapshot: { metadata: { index: max, term: max, confState: { voters: ['ffffffffffffffff'], learners: ['0'] } }, data: new Uint8Array(0) },
  });
  assert.deepEqual(decodeMessage(encodeMessage(big)), big);
});

test('varints, node ids and strings round trip through the writer and reader', () => {
  forAll(5000, SEED + 9, (rng) => ({ n: randomNumber(rng), id: randomNodeId(rng), s: randomString(rng) }), ({ n, id, s }) => {
    const w = new ByteWriter(1);
    w.writeVarint(n);
    w.writeNodeId(id);
    w.writeString(s);
    w.writeBool(true);
    const r = new ByteReader(w.finish());
    assert.equal(r.readVarint(), n);
    assert.equal(r.readNodeId(), id);
    assert.equal(r.readString(), s);
    assert.equal(r.readBool(), true);
    r.expectEnd();
  });
});

test('the UTF-8 routines agree with the platform encoder on every kind of character', () => {
  const samples = ['', 'plain ascii', 'é€日本語', '😀𝄞👍🏽', '\u0000\u007f\u0080\u07ff\u0800\uffff', String.fromCodePoint(0x10ffff), 'x'.repeat(10_000) + '€'];
  for (const s of samples) {
    const ours = encodeUtf8(s);
    assert.deepEqual(ours, new Uint8Array(Buffer.from(s, 'utf8')));
    assert.equal(decodeUtf8(ours), s);
  }
  // Lone surrogates become U+FFFD, as TextEncoder and Buffer do.
  assert.deepEqual(encodeUtf8('a\ud800b\udc00'), new Uint8Array(Buffer.from('a\ud800b\udc00', 'utf8')));
});

test('a random valid UTF-8 byte stream decodes the same as the platform decoder', () => {
  forAll(2000, SEED + 10, randomString, (s) => {
    const bytes = new Uint8Array(Buffer.from(s, 'utf8'));
    assert.equal(decodeUtf8(bytes), new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  });
});

test('a length-prefixed string is the varint of its UTF-8 length then its bytes, at every length around the native-codec switch and varint boundaries', () => {
  const alphabets = ['a', 'é', '€', '😀', 'a\ud800', '\udc00b'];
  const lengths = [0, 1, 22, 23, 24, 25, 42, 43, 44, 126, 127, 128, 129, 5461, 5462, 16383, 16384, 21845, 65535, 65536, 65537];
  for (const alphabet of alphabets) {
    for (const units of lengths) {
      const s = alphabet.repeat(Math.ceil(units / alphabet.length)).slice(0, units);
      const utf8 = new Uint8Array(Buffer.from(s, 'utf8'));
      const w = new ByteWriter(8);
      w.writeUint8(0xaa);
      w.writeString(s);
      w.writeUint8(0xbb);
      const out = w.finish();
      const lengthPrefix = new ByteWriter(8);
      lengthPrefix.writeVarint(utf8.length);
      const expected = new Uint8Array([0xaa, ...lengthPrefix.finish(), ...utf8, 0xbb]);
      assert.deepEqual(out, expected, `${JSON.stringify(alphabet)} x ${units}`);
      const r = new ByteReader(out);
      assert.equal(r.readUint8(), 0xaa);
      assert.equal(r.readString(), Buffer.from(utf8).toString('utf8'));
      assert.equal(r.readUint8(), 0xbb);
    }
  }
});

test('a byte-order mark is data, not stripped, however long the text', () => {
  for (const s of ['\ufeff', '\ufeff' + 'x'.repeat(100)]) assert.equal(decodeUtf8(encodeUtf8(s)), s);
});
