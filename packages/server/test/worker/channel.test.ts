import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter, CodecError, EtcdError, ErrorCode } from '@deimos/protocol';
import { encodeAppliedEvent, readStoreEvent, writeStoreEvent } from '../../src/worker/channel/event-codec.js';
import { decodeEventRecord, readRecords, RecordType, writeRecord, type ChannelRecord } from '../../src/worker/channel/records.js';
import { ChannelEnd } from '../../src/worker/channel/channel-end.js';
import { encodeFrame } from '../../src/transport/frame-codec.js';
import type { StoreEvent } from '../../src/store/index.js';
import { duplexPair, until } from './support.js';

const events: StoreEvent[] = [
  { action: 'set', index: 7, refresh: false, node: { key: '/a', value: 'x', dir: false, modifiedIndex: 7, createdIndex: 7 } },
  { action: 'set', index: 8, refresh: false, node: { key: '/a', value: '', dir: false, expireAtMs: 1_900_000_000_123, modifiedIndex: 8, createdIndex: 8 },
    prevNode: { key: '/a', value: 'x', dir: false, modifiedIndex: 7, createdIndex: 7 }, timeMs: 1_899_999_990_123 },
  { action: 'delete', index: 9, refresh: false, node: { key: '/d', dir: true, modifiedIndex: 9, createdIndex: 3 }, prevNode: { key: '/d', dir: true, modifiedIndex: 3, createdIndex: 3 } },
  { action: 'update', index: 10, refresh: true, node: { key: '/é/ü', value: 'v\u{1F600}', dir: false, modifiedIndex: 10, createdIndex: 2 } },
  { action: 'expire', index: 2 ** 40, refresh: false, node: { key: '/t', dir: false, modifiedIndex: 2 ** 40, createdIndex: 1 }, timeMs: 0 },
];

describe('channel event codec', () => {
  test('round-trips every kind of event field for field (absent fields stay absent)', () => {
    for (const e of events) {
      const { event: back, inside } = decodeEventRecord(encodeAppliedEvent(e, undefined));
      assert.deepEqual(back, e);
      assert.equal(inside, undefined);
      assert.deepEqual(Object.keys(back.node).sort(), Object.keys(e.node).sort());
    }
  });

  test('an event time the varint cannot carry is left out (the reader counts from its own clock)', () => {
    for (const timeMs of [-1, 1.5, 2 ** 60]) {
      const back = decodeEventRecord(encodeAppliedEvent({ ...events[0]!, timeMs }, undefined)).event;
      assert.equal('timeMs' in back, false, String(timeMs));
    }
  });

  test('the reused scratch encoding gives the same bytes, each call overwriting the last, and a big event does not keep its buffer', () => {
    for (const e of events) assert.deepEqual(Uint8Array.from(encodeAppliedEvent(e, undefined, true)), encodeAppliedEvent(e, undefined));
    const big = { action: 'set', index: 3, refresh: false, node: { key: '/big', value: 'b'.repeat(2 * 1024 * 1024), modifiedIndex: 3, createdIndex: 3 } } as StoreEvent;
    assert.equal(decodeEventRecord(encodeAppliedEvent(big, undefined, true)).event.node.value, big.node.value);
    const small = encodeAppliedEvent(events[0]!, undefined, true);
    assert.ok(small.buffer.byteLength <= 1024 * 1024, 'the 6 MiB scratch buffer was dropped');
    assert.deepEqual(decodeEventRecord(small).event, events[0]);
  });

  test("a removed directory's paths travel with its event: none, an empty list, several", () => {
    for (const inside of [undefined, [], ['/d/a', '/d/sub', '/d/sub/é', '/d/_hidden']]) {
      const back = decodeEventRecord(encodeAppliedEvent(events[2]!, inside, true));
      assert.deepEqual(back, { event: events[2], inside });
    }
  });

  test('refuses truncated and malformed events', () => {
    const bytes = encodeAppliedEvent(events[1]!, undefined);
    for (let cut = 0; cut < bytes.length - 1; cut++) {
      assert.throws(() => readStoreEvent(new ByteReader(bytes.subarray(0, cut))), CodecError);
    }
    const withPaths = encodeAppliedEvent(events[2]!, ['/d/a', '/d/b']);
    for (let cut = 0; cut < withPaths.length; cut++) {
      assert.throws(() => decodeEventRecord(withPaths.subarray(0, cut)), CodecError);
    }
    const huge = Uint8Array.from(encodeAppliedEvent(events[2]!, []));
    huge[huge.length - 1] = 0x7f; // a count of 127 paths with no bytes left for them
    assert.throws(() => decodeEventRecord(huge), CodecError);
    const bad = Uint8Array.from(bytes);
    bad[0] = 99;
    assert.throws(() => decodeEventRecord(bad), CodecError);
  });
});

const records: ChannelRecord[] = [
  { type: RecordType.Propose, tag: 1, request: '{"op":"set","path":"/a"}' },
  { type: RecordType.Read, tag: 2, flags: 3, path: '/a/b' },
  { type: RecordType.History, tag: 3, path: '/', recursive: true, stream: true, fromIndex: 4, capacity: 1000 },
  { type: RecordType.Call, tag: 4, method: 'selfStats', args: '[]' },
  { type: RecordType.ListingAck, tag: 5, bytes: 65536 },
  { type: RecordType.ListingCancel, tag: 6 },
  { type: RecordType.Event, bytes: encodeAppliedEvent(events[0]!, undefined) },
  { type: RecordType.Reset, index: 77 },
  { type: RecordType.Status, json: '{"ready":true}' },
  { type: RecordType.Result, tag: 7, raftIndex: 12, raftTerm: 2, event: events[1], outcome: undefined },
  { type: RecordType.Result, tag: 8, raftIndex: 12, raftTerm: 2, event: undefined, outcome: { kind: 'error', error: new EtcdError(ErrorCode.KeyNotFound, '/x', 12) } },
  { type: RecordType.Result, tag: 9, raftIndex: 0, raftTerm: 0, event: undefined, outcome: { kind: 'failure', failure: 'nospace' } },
  { type: RecordType.Result, tag: 10, raftIndex: 0, raftTerm: 0, event: undefined, outcome: { kind: 'auth', status: 409, message: 'User x already exists.' } },
  { type: RecordType.ReadAnswer, tag: 11, raftIndex: 5, raftTerm: 1, index: 4, body: '{"action":"get"}', listing: false, outcome: undefined },
  { type: RecordType.ListingChunk, tag: 11, text: 'abc', end: 1 },
  { type: RecordType.HistoryAnswer, tag: 12, index: 40, events: events.slice(0, 3), outcome: undefined },
  { type: RecordType.CallAnswer, tag: 13, ok: true, json: '{"a":1}' },
  { type: RecordType.WatcherQuery, tag: 14 },
  { type: RecordType.WatcherCount, tag: 14, count: 3, gets: 70000 },
  { type: RecordType.MetricsQuery, tag: 15 },
  { type: RecordType.MetricsText, tag: 15, text: '# HELP x y\nx 1\n' },
];

describe('channel records', () => {
  test('round-trip in one frame, in order', () => {
    const w = new ByteWriter();
    for (const r of records) writeRecord(w, r);
    const back = readRecords(w.finish());
    assert.equal(back.length, records.length);
    for (let i = 0; i < records.length; i++) {
      const want = records[i]!;
      const got = back[i]!;
      if ('outcome' in want && want.outcome?.kind === 'error') {
        assert.ok(got.type === want.type && 'outcome' in got && got.outcome?.kind === 'error');
        assert.deepEqual(got.outcome.error.toJSON(), want.outcome.error.toJSON());
        continue;
      }
      assert.deepEqual(got, want);
    }
  });

  test('refuses an unknown record type', () => {
    assert.throws(() => readRecords(Uint8Array.of(99)), CodecError);
  });
});

describe('ChannelEnd', () => {
  test('delivers records in order, whatever the byte stream is cut into', async () => {
    const w = new ByteWriter();
    for (const r of records) writeRecord(w, r);
    const frame = encodeFrame(w.finish());
    for (let cut = 1; cut < frame.length; cut += 7) {
      const [a, b] = duplexPair();
      const got: ChannelRecord[] = [];
      new ChannelEnd(b, { onRecord: (r) => got.push(r), onClose: () => {} });
      a.write(frame.subarray(0, cut));
      a.write(frame.subarray(cut));
      await until(() => got.length === records.length);
      assert.deepEqual(got.map((r) => r.type), records.map((r) => r.type));
    }
  });

  test('batches the records of one turn into one frame', async () => {
    const [a, b] = duplexPair();
    const chunks: Buffer[] = [];
    b.on('data', (c: Buffer) => chunks.push(c));
    const end = new ChannelEnd(a, { onRecord: () => {}, onClose: () => {} });
    for (let i = 0; i < 100; i++) end.send({ type: RecordType.Reset, index: i });
    assert.equal(chunks.length, 0, 'nothing written before the turn ends');
    await until(() => chunks.length > 0);
    const all = Buffer.concat(chunks);
    assert.equal(all.readUInt32BE(0), all.length - 4, 'one frame');
    assert.deepEqual(readRecords(all.subarray(4)).map((r) => (r as { index: number }).index), [...Array(100).keys()]);
  });

  test('breaks the channel on a frame above the bound, before buffering it', async () => {
    const [a, b] = duplexPair();
    let closedWith: Error | undefined;
    const got: ChannelRecord[] = [];
    new ChannelEnd(b, { onRecord: (r) => got.push(r), onClose: (e) => (closedWith = e), maxFrameBytes: 1024 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    a.write(header);
    await until(() => closedWith !== undefined);
    assert.match(closedWith!.message, /exceeds the limit/);
    assert.equal(got.length, 0);
  });

  test('breaks the channel on a malformed record', async () => {
    const [a, b] = duplexPair();
    let closedWith: Error | undefined;
    new ChannelEnd(b, { onRecord: () => {}, onClose: (e) => (closedWith = e) });
    a.write(encodeFrame(Uint8Array.of(RecordType.Read, 1)));
    await until(() => closedWith !== undefined);
    assert.ok(closedWith instanceof CodecError);
  });
});
