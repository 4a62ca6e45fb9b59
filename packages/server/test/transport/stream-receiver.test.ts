import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
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

/** How a stream reaches b: a GET upgraded to raw frames (what members send), or a chunked POST (older members). */
type Mode = 'upgraded' | 'chunked';

const IDENTITY = 'x-deimos-cluster-id: c1\r\nx-deimos-from: a\r\nx-deimos-to: b\r\n';

/** A connection to b that sent `head` (and `first`, in the same write) and saw b's answer head. */
function upgradeRaw(head: string, first: Buffer = Buffer.alloc(0)): Promise<{ socket: net.Socket; answer: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(b.port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let got = '';
    socket.on('error', () => undefined);
    socket.on('data', function onData(chunk: Buffer) {
      got += chunk.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.resume();
      resolve({ socket, answer: got, closed });
    });
    socket.once('close', () => reject(new Error(`closed before an answer: ${got}`)));
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), first]));
  });
}

const UPGRADE_HEAD = `GET /raft/stream HTTP/1.1\r\nhost: b\r\nconnection: Upgrade\r\nupgrade: deimos-raft-stream\r\n${IDENTITY}\r\n`;

/** Opens a stream from `a` to b and resolves with a writer once b accepted it. */
async function openStream(mode: Mode): Promise<{ write(chunk: Buffer): void; destroy(): void; closed: Promise<void> }> {
  if (mode === 'upgraded') {
    const { socket, answer, closed } = await upgradeRaw(UPGRADE_HEAD);
    assert.match(answer, /^HTTP\/1\.1 101 /);
    return { write: (c) => void socket.write(c), destroy: () => socket.destroy(), closed };
  }
  return new Promise((resolve) => {
    let onClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => { onClosed = r; });
    const req = http.request(`${b.url}/raft/stream`, {
      method: 'POST', agent: false,
      headers: { 'x-deimos-cluster-id': 'c1', 'x-deimos-from': 'a', 'x-deimos-to': 'b' },
    }, (res) => {
      res.resume();
      resolve({ write: (c) => void req.write(c), destroy: () => req.destroy(), closed });
    });
    req.on('error', () => undefined);
    req.on('close', () => onClosed());
    req.flushHeaders();
  });
}

/** Opens a stream from `a` to b, writes `chunks` (the first with the request head when upgraded), and resolves when b closes or ends it. */
async function rawStream(mode: Mode, chunks: Buffer[]): Promise<'closed'> {
  if (mode === 'upgraded') {
    const [first, ...rest] = chunks;
    const { socket, answer, closed } = await upgradeRaw(UPGRADE_HEAD, first);
    assert.match(answer, /^HTTP\/1\.1 101 /);
    for (const c of rest) socket.write(c);
    socket.end();
    await closed;
    return 'closed';
  }
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

for (const mode of ['upgraded', 'chunked'] as const) describe(`stream receiver (${mode})`, () => {
  test('delivers the messages of frames written in pieces', async () => {
    await member();
    const bytes = Buffer.concat([frameOf(app('a', 'b', 1), app('a', 'b', 2)), frameOf(heartbeat('a', 'b'))]);
    const pieces = [bytes.subarray(0, 3), bytes.subarray(3, 50), bytes.subarray(50)];
    await rawStream(mode, pieces);
    await waitFor('delivery', () => b.received.length === 3);
    assert.deepEqual(b.received.map((m) => m.type), [MessageType.MsgApp, MessageType.MsgApp, MessageType.MsgHeartbeat]);
  });

  test('drops a connection announcing a frame above the limit', async () => {
    await member({ maxFrameBytes: 1024 });
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(1025, 0);
    await rawStream(mode, [frameOf(app('a', 'b', 1)), huge, Buffer.alloc(2000)]);
    assert.equal(b.received.length, 1);
    assert.match(warnings.join('\n'), /exceeds the limit of 1024/);
  });

  test('drops a connection carrying a frame that does not decode', async () => {
    await member();
    await rawStream(mode, [encodeFrame(Buffer.from('not a message batch')), frameOf(app('a', 'b', 1))]);
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
    for (const m of bad) await rawStream(mode, [frameOf(heartbeat('a', 'b'), m)]);
    assert.equal(b.received.length, 0);
    assert.match(warnings.join('\n'), /local-only message type MsgHup/);
    assert.match(warnings.join('\n'), /MsgSnap on the message stream/);
    assert.match(warnings.join('\n'), /message from c on the stream of a/);
    assert.match(warnings.join('\n'), /message for c on a stream to b/);
  });

  test('keeps one inbound stream per peer, closing the older on reconnect', async () => {
    await member();
    const first = await openStream(mode);
    first.write(frameOf(app('a', 'b', 1)));
    await waitFor('delivery on the first stream', () => b.received.length === 1);
    const second = await openStream(mode);
    await first.closed;
    second.write(frameOf(app('a', 'b', 2)));
    await waitFor('delivery on the newer stream', () => b.received.length === 2);
    assert.equal(b.requests.filter((r) => r.path === '/raft/stream').length, 2);
    second.destroy();
  });
});

describe('stream receiver: upgrade requests it refuses', () => {
  const answerOf = async (head: string) => (await upgradeRaw(head)).answer;

  test('another upgrade token (400), another path (404), POST (405), another cluster (412), each with a JSON message', async () => {
    await member();
    assert.match(await answerOf(UPGRADE_HEAD.replace('upgrade: deimos-raft-stream', 'upgrade: websocket')), /^HTTP\/1\.1 400 [^]*"message":"\/raft\/stream upgrades to deimos-raft-stream only"/);
    assert.match(await answerOf(UPGRADE_HEAD.replace('GET /raft/stream', 'GET /raft/other')), /^HTTP\/1\.1 404 [^]*no peer endpoint at \/raft\/other/);
    assert.match(await answerOf(UPGRADE_HEAD.replace('GET', 'POST')), /^HTTP\/1\.1 405 /);
    assert.match(await answerOf(UPGRADE_HEAD.replace('x-deimos-cluster-id: c1', 'x-deimos-cluster-id: c9')), /^HTTP\/1\.1 412 [^]*cluster ID mismatch/);
    assert.equal(b.received.length, 0);
  });
});
