import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { encodeMessageBatch, makeMessage, MessageType, type Message } from '@deimos/protocol';
import { encodeFrame } from '../../src/transport/frame-codec.js';
import type { Logger } from '../../src/util/logger.js';
import { app, heartbeat, startMember, waitFor, type TestMember } from './support.js';

let b: TestMember;
let warnings: string[];
afterEach(async () => {
  await b.close();
});

async function member(limits?: object): Promise<void> {
  warnings = [];
  const logger: Logger = { debug() {}, info() {}, warn: (msg, f) => warnings.push(`${msg} ${JSON.stringify(f)}`), error() {} };
  b = await startMember({ id: 'b', logger, limits });
}

/** Opens a raw stream from `a` to b and resolves with it once b accepted it. */
function openStream(): Promise<{ req: http.ClientRequest; closed: Promise<void> }> {
  return new Promise((resolve) => {
    let onClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => { onClosed = r; });
    const req = http.request(`${b.url}/raft/stream`, {
      method: 'POST', agent: false,
      headers: { 'x-deimos-cluster-id': 'c1', 'x-deimos-from': 'a', 'x-deimos-to': 'b' },
    }, (res) => {
      res.resume();
      resolve({ req, closed });
    });
    req.on('error', () => undefined);
    req.on('close', () => onClosed());
    req.flushHeaders();
  });
}

/** Opens a raw stream from `a` to b, writes `chunks`, and resolves when b closes or ends it. */
function rawStream(chunks: Buffer[]): Promise<'closed'> {
  return new Promise((resolve) => {
    const req = http.request(`${b.url}/raft/stream`, {
      method: 'POST', agent: false,
      headers: { 'x-deimos-cluster-id': 'c1', 'x-deimos-from': 'a', 'x-deimos-to': 'b' },
    }, (res) => {
      assert.equal(res.statusCode, 200);
      res.resume();
      for (const c of chunks) req.write(c);
      req.end();
    });
    req.on('error', () => resolve('closed'));
    req.on('close', () => resolve('closed'));
    req.flushHeaders();
  });
}

const frameOf = (...ms: Message[]) => encodeFrame(encodeMessageBatch(ms));

describe('stream receiver', () => {
  test('delivers the messages of frames written in pieces', async () => {
    await member();
    const bytes = Buffer.concat([frameOf(app('a', 'b', 1), app('a', 'b', 2)), frameOf(heartbeat('a', 'b'))]);
    const pieces = [bytes.subarray(0, 3), bytes.subarray(3, 50), bytes.subarray(50)];
    await rawStream(pieces);
    await waitFor('delivery', () => b.received.length === 3);
    assert.deepEqual(b.received.map((m) => m.type), [MessageType.MsgApp, MessageType.MsgApp, MessageType.MsgHeartbeat]);
  });

  test('drops a connection announcing a frame above the limit', async () => {
    await member({ maxFrameBytes: 1024 });
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(1025, 0);
    await rawStream([frameOf(app('a', 'b', 1)), huge, Buffer.alloc(2000)]);
    assert.equal(b.received.length, 1);
    assert.match(warnings.join('\n'), /exceeds the limit of 1024/);
  });

  test('drops a connection carrying a frame that does not decode', async () => {
    await member();
    await rawStream([encodeFrame(Buffer.from('not a message batch')), frameOf(app('a', 'b', 1))]);
    assert.equal(b.received.length, 0);
    assert.match(warnings.join('\n'), /bad frame/);
  });

  test('refuses local-only types, MsgSnap, and spoofed senders or receivers on the stream', async () => {
    await member();
    const bad = [
      makeMessage({ type: MessageType.MsgHup, from: 'a', to: 'b' }),
      makeMessage({ type: MessageType.MsgSnap, from: 'a', to: 'b', snapshot: { metadata: { index: 1, term: 1, confState: { voters: [], learners: [] } }, data: Buffer.from('/etc/passwd') } }),
      heartbeat('c', 'b'),
      heartbeat('a', 'c'),
    ];
    for (const m of bad) await rawStream([frameOf(heartbeat('a', 'b'), m)]);
    assert.equal(b.received.length, 0);
    assert.match(warnings.join('\n'), /local-only message type MsgHup/);
    assert.match(warnings.join('\n'), /MsgSnap on the message stream/);
    assert.match(warnings.join('\n'), /message from c on the stream of a/);
    assert.match(warnings.join('\n'), /message for c on a stream to b/);
  });

  test('keeps one inbound stream per peer, closing the older on reconnect', async () => {
    await member();
    const first = await openStream();
    first.req.write(frameOf(app('a', 'b', 1)));
    await waitFor('delivery on the first stream', () => b.received.length === 1);
    const second = await openStream();
    await first.closed;
    second.req.write(frameOf(app('a', 'b', 2)));
    await waitFor('delivery on the newer stream', () => b.received.length === 2);
    assert.equal(b.requests.filter((r) => r.path === '/raft/stream').length, 2);
    second.req.destroy();
  });
});
