import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessageBatch, encodeMessageBatch, MessageType } from '@deimos/protocol';
import { encodeFrame, FrameDecoder } from '../../src/transport/frame-codec.js';
import { TransportError } from '../../src/transport/transport-errors.js';
import { SendQueue } from '../../src/transport/send-queue.js';
import { app, heartbeat } from './support.js';

function stream(...payloads: Uint8Array[]): Buffer {
  return Buffer.concat(payloads.map((p) => encodeFrame(p)));
}

describe('FrameDecoder', () => {
  const payloads = [
    encodeMessageBatch([app('1', '2', 1), heartbeat('1', '2')]),
    new Uint8Array(0),
    encodeMessageBatch([app('1', '2', 2, 300)]),
    new Uint8Array([1, 2, 3]),
  ];
  const bytes = stream(...payloads);

  test('decodes frames split at every byte boundary', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new FrameDecoder(1 << 20);
      const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      assert.deepEqual(frames.map((f) => [...f]), payloads.map((p) => [...p]), `cut at ${cut}`);
      assert.equal(d.pendingBytes, 0);
    }
  });

  test('decodes a stream fed one byte at a time and at every pair of cuts', () => {
    const d = new FrameDecoder(1 << 20);
    const frames = [];
    for (const b of bytes) frames.push(...d.push(Buffer.from([b])));
    assert.deepEqual(frames.map((f) => [...f]), payloads.map((p) => [...p]));
    for (let i = 0; i < bytes.length; i += 7) {
      for (let j = i; j <= bytes.length; j += 5) {
        const d2 = new FrameDecoder(1 << 20);
        const got = [...d2.push(bytes.subarray(0, i)), ...d2.push(bytes.subarray(i, j)), ...d2.push(bytes.subarray(j))];
        assert.equal(got.length, payloads.length);
      }
    }
  });

  test('decoded payloads are message batches equal to what was sent', () => {
    const d = new FrameDecoder(1 << 20);
    const [first] = d.push(bytes);
    const messages = decodeMessageBatch(first!);
    assert.deepEqual(messages.map((m) => m.type), [MessageType.MsgApp, MessageType.MsgHeartbeat]);
  });

  test('refuses a frame length above the limit before buffering it', () => {
    const d = new FrameDecoder(100);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(101, 0);
    assert.throws(() => d.push(header), (err: unknown) => err instanceof TransportError && err.code === 'ERR_FRAME_TOO_LARGE');
    const ok = new FrameDecoder(100);
    assert.equal(ok.push(encodeFrame(new Uint8Array(100))).length, 1);
  });

  test('refuses a length header split across chunks too', () => {
    const d = new FrameDecoder(1000);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffffffff, 0);
    assert.deepEqual(d.push(header.subarray(0, 3)), []);
    assert.throws(() => d.push(header.subarray(3)), TransportError);
  });
});

describe('SendQueue', () => {
  test('puts heartbeats and votes ahead of a backlog of appends', () => {
    const q = new SendQueue({ maxMessages: 100, maxBytes: 1 << 20, maxUrgentMessages: 10 });
    for (let i = 1; i <= 5; i++) assert.equal(q.push(app('1', '2', i, 1000)), true);
    assert.equal(q.push(heartbeat('1', '2')), true);
    const batch = q.takeBatch(2500);
    assert.equal(batch[0]!.type, MessageType.MsgHeartbeat);
    assert.deepEqual(batch.slice(1).map((m) => m.entries[0]!.index), [1, 2]);
    assert.deepEqual(q.takeBatch(1).map((m) => m.entries[0]!.index), [3]);
  });

  test('refuses messages beyond its count and byte bounds', () => {
    const q = new SendQueue({ maxMessages: 3, maxBytes: 10_000, maxUrgentMessages: 2 });
    assert.equal(q.push(app('1', '2', 1)), true);
    assert.equal(q.push(app('1', '2', 2, 9_000)), true);
    assert.equal(q.push(app('1', '2', 3, 2_000)), false, 'byte bound');
    assert.equal(q.push(app('1', '2', 4)), true);
    assert.equal(q.push(app('1', '2', 5)), false, 'count bound');
    assert.equal(q.push(heartbeat('1', '2')), true);
    assert.equal(q.push(heartbeat('1', '2')), true);
    assert.equal(q.push(heartbeat('1', '2')), false, 'urgent bound');
    assert.equal(q.length, 5);
    assert.equal(q.clear(), 5);
    assert.equal(q.bytes, 0);
  });
});
