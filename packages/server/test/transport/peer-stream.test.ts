import { test, describe, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { MessageType } from '@deimos/protocol';
import { app, connectAll, heartbeat, startMember, waitFor, type TestMember } from './support.js';
import { PeerStats } from '../../src/transport/peer-stats.js';

const running: TestMember[] = [];
/** Whether the members dial and write their streams on a peer socket thread (each test runs both ways). */
let socketThread = false;
async function member(opts: Parameters<typeof startMember>[0]): Promise<TestMember> {
  const m = await startMember({ socketThread, ...opts });
  running.push(m);
  return m;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.close()));
});

const streamRequests = (m: TestMember) => m.requests.filter((r) => r.path === '/raft/stream');

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends `n` appends from every member to every other in one synchronous run; each arrives in its sender's order. */
async function sendAllToAllInOrder(ms: TestMember[], n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    for (const from of ms) from.transport.send(ms.filter((to) => to !== from).map((to) => app(from.id, to.id, i)));
  }
  await waitFor('every message', () => ms.every((m) => m.received.length === n * (ms.length - 1)));
  for (const to of ms) {
    for (const from of ms.filter((f) => f !== to)) {
      const indexes = to.received.filter((m) => m.from === from.id).map((m) => m.entries[0]!.index);
      assert.deepEqual(indexes, Array.from({ length: n }, (_, i) => i + 1), `${from.id} -> ${to.id}`);
    }
  }
}

for (const onThread of [false, true]) describe(`peer streams${onThread ? ', written on the peer socket thread' : ''}`, () => {
  before(() => {
    socketThread = onThread;
  });

  test('a peer of a build before raw streams (405 to the upgrade) gets the stream as a chunked POST', async () => {
    const a = await member({ id: 'a' });
    const b = await member({ id: 'b', rawStreams: false });
    connectAll([a, b]);
    await waitFor('streams up', () => a.transport.stats()[0]!.connected && b.transport.stats()[0]!.connected);
    a.transport.send(Array.from({ length: 50 }, (_, i) => app('a', 'b', i + 1)));
    b.transport.send([heartbeat('b', 'a')]);
    await waitFor('all messages at b', () => b.received.length === 50);
    await waitFor('heartbeat at a', () => a.received.length === 1);
    assert.deepEqual(b.received.map((m) => m.entries[0]!.index), Array.from({ length: 50 }, (_, i) => i + 1));
    assert.deepEqual(streamRequests(b).map((r) => r.status), [405, 200], 'the upgrade refused, then the POST taken');
    assert.deepEqual(streamRequests(a).map((r) => r.status), [101], 'b upgrades its own stream to a');
    assert.deepEqual(a.unreachable, []);
  });

  test('delivers messages between two members in order, batched on one stream per direction', async () => {
    const a = await member({ id: 'a' });
    const b = await member({ id: 'b' });
    connectAll([a, b]);
    await waitFor('streams up', () => a.transport.stats()[0]!.connected && b.transport.stats()[0]!.connected);
    a.transport.send(Array.from({ length: 1000 }, (_, i) => app('a', 'b', i + 1)));
    b.transport.send([heartbeat('b', 'a')]);
    for (let i = 1001; i <= 1100; i++) a.transport.send([app('a', 'b', i)]);
    await waitFor('all messages at b', () => b.received.length === 1100);
    await waitFor('heartbeat at a', () => a.received.length === 1);
    assert.deepEqual(b.received.map((m) => m.entries[0]!.index), Array.from({ length: 1100 }, (_, i) => i + 1));
    assert.ok(b.received.every((m) => m.from === 'a' && m.to === 'b'));
    const sent = a.transport.stats()[0]!;
    assert.equal(sent.messagesSent, 1100);
    // Written here, the sends made while the socket is backed up wait and leave as a few frames;
    // handed to the socket thread, each send is a frame of its own until the thread says the
    // socket is backed up (its bytes still leave together, in the socket's buffer): at most one
    // frame per send, and the 1000 sent at once in one.
    const most = onThread ? 101 : 10;
    assert.ok(sent.framesSent <= most, `1100 messages in ${sent.framesSent} frames`);
    assert.equal(b.transport.stats()[0]!.framesReceived, sent.framesSent);
    assert.equal(b.transport.stats()[0]!.messagesReceived, 1100);
    assert.equal(streamRequests(a).length, 1);
    assert.equal(streamRequests(b).length, 1);
    assert.deepEqual(a.unreachable, []);
  });

  test('connects three members all to all and keeps per-sender order', async () => {
    const ms = [await member({ id: '1' }), await member({ id: '2' }), await member({ id: '3' })];
    connectAll(ms);
    await sendAllToAllInOrder(ms, 200);
    for (const to of ms) assert.equal(streamRequests(to).length, 2);
  });

  test('sends to several peers in one task, on open streams, each in its own order', async () => {
    const ms = [await member({ id: '1' }), await member({ id: '2' }), await member({ id: '3' })];
    connectAll(ms);
    await waitFor('streams up', () => ms.every((m) => m.transport.stats().every((s) => s.connected)));
    // One synchronous run: on the thread, every flush of it goes over in one message.
    await sendAllToAllInOrder(ms, 300);
  });

  test('refuses a stream from another cluster with 412 and delivers nothing', async () => {
    const a = await member({ id: 'a', clusterId: 'c1' });
    const b = await member({ id: 'b', clusterId: 'c2' });
    a.transport.addPeer('b', [b.url]);
    a.transport.send([heartbeat('a', 'b')]);
    await waitFor('a refused stream', () => b.requests.some((r) => r.status === 412));
    await waitFor('unreachable reported', () => a.unreachable.includes('b'));
    a.transport.send([heartbeat('a', 'b'), app('a', 'b', 1)]);
    await waitFor('retries', () => b.requests.length >= 2);
    assert.deepEqual(b.received, []);
    assert.ok(b.requests.every((r) => r.status === 412));
    assert.equal(a.transport.stats()[0]!.connected, false);
  });

  test('answers bad identity headers with 412, removed members with 410, and unknown paths with 404', async () => {
    const b = await member({ id: 'b', isRemoved: (id) => id === 'dead' });
    const ask = (path: string, headers: Record<string, string>, method = 'POST') => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${b.url}${path}`, { method, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    const id = { 'x-deimos-cluster-id': 'c1', 'x-deimos-from': 'a', 'x-deimos-to': 'b' };
    const wrongCluster = await ask('/raft/stream', { ...id, 'x-deimos-cluster-id': 'c9' });
    assert.equal(wrongCluster.status, 412);
    assert.match(JSON.parse(wrongCluster.body).message, /cluster ID mismatch/);
    assert.equal((await ask('/raft/stream', { ...id, 'x-deimos-to': 'c' })).status, 412);
    assert.equal((await ask('/raft/snapshot', { ...id, 'x-deimos-cluster-id': 'c9' })).status, 412);
    const removed = await ask('/raft/stream', { ...id, 'x-deimos-from': 'dead' });
    assert.equal(removed.status, 410);
    assert.match(JSON.parse(removed.body).message, /removed/);
    assert.equal((await ask('/raft/nothing', id)).status, 404);
    assert.equal((await ask('/raft/stream', id, 'GET')).status, 405);
    assert.deepEqual(b.received, []);
  });

  test('refuses a stream that names this member as its sender (400), and one from a non-member (404, as etcd)', async () => {
    const b = await member({ id: 'b', isMember: (id) => id === 'a' || id === 'b' });
    const ask = (headers: Record<string, string>) => new Promise<number>((resolve, reject) => {
      const req = http.request(`${b.url}/raft/stream`, { method: 'POST', headers, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    const id = { 'x-deimos-cluster-id': 'c1', 'x-deimos-to': 'b' };
    assert.equal(await ask({ ...id, 'x-deimos-from': 'b' }), 400);
    assert.equal(await ask({ ...id, 'x-deimos-from': 'c' }), 404);
    assert.deepEqual(b.received, []);
  });

  test('tells a removed member so when a peer answers 410', async () => {
    const a = await member({ id: 'a' });
    const b = await member({ id: 'b', isRemoved: (id) => id === 'a' });
    const removedBy: string[] = [];
    a.transport.onRemoved((by) => removedBy.push(by));
    a.transport.addPeer('b', [b.url]);
    await waitFor('410 seen', () => removedBy.length > 0);
    assert.equal(removedBy[0], 'b');
  });

  test("a peer URL Go's parser takes and this one cannot dial makes the peer unreachable, never a throw", async () => {
    const a = await member({ id: 'a' });
    const b = await member({ id: 'b' });
    // Each was accepted by etcd's URL checks (a member with it can be added); none names a peer.
    const undiallable = ['http://127.0.0.1:99999', 'http://[zz]:2380', 'http://127.0.0.300:2380', 'http://127.0.0.1:0', 'unix://sock:1'];
    undiallable.forEach((url, i) => assert.doesNotThrow(() => a.transport.addPeer(`x${i}`, [url]), url));
    await waitFor('every one reported unreachable', () => undiallable.every((_, i) => a.unreachable.includes(`x${i}`)));
    // Changing a good peer's URL to one of them, and back, neither throws.
    a.transport.addPeer('b', [b.url]);
    a.transport.send([app('a', 'b', 1)]);
    await waitFor('first message', () => b.received.length === 1);
    assert.doesNotThrow(() => a.transport.updatePeer('b', ['http://127.0.0.1:99999']));
    a.transport.updatePeer('b', [b.url]);
    await waitFor('reconnected', () => a.transport.stats().find((s) => s.id === 'b')?.connected === true, 5_000);
    a.transport.send([app('a', 'b', 2)]);
    await waitFor('message after the URL came back', () => b.received.length === 2);
  });

  test('a peer whose URLs change keeps its open stream until it breaks, then is dialled at the new URLs (as etcd)', async () => {
    const a = await member({ id: 'a' });
    let b = await member({ id: 'b' });
    a.transport.addPeer('b', [b.url]);
    a.transport.send([app('a', 'b', 1)]);
    await waitFor('first message', () => b.received.length === 1);
    // The member was updated to a URL it does not listen on yet (it is restarted there later).
    const moved = await freePort();
    a.transport.updatePeer('b', [`http://127.0.0.1:${moved}`]);
    a.transport.send([app('a', 'b', 2), app('a', 'b', 3)]);
    await waitFor('messages on the stream opened before the update', () => b.received.length === 3);
    assert.deepEqual(a.unreachable, []);
    assert.equal(streamRequests(b).length, 1, 'no new stream');
    // Restarted on the new URL: the old stream breaks and the new URL is dialled.
    await b.close();
    running.splice(running.indexOf(b), 1);
    await waitFor('a sees the old stream broken', () => a.transport.stats().find((s) => s.id === 'b')?.connected === false);
    b = await member({ id: 'b', port: moved });
    a.transport.send([app('a', 'b', 4)]);
    await waitFor('reconnected at the new URL', () => a.transport.stats().find((s) => s.id === 'b')?.connected === true, 10_000);
    a.transport.send([app('a', 'b', 5)]);
    await waitFor('a message at the new URL', () => b.received.some((m) => m.entries[0]?.index === 5));
  });

  test('reconnects to a peer that went down and came back, reporting it unreachable meanwhile', async () => {
    const a = await member({ id: 'a' });
    let b = await member({ id: 'b' });
    a.transport.addPeer('b', [b.url]);
    a.transport.send([app('a', 'b', 1)]);
    await waitFor('first message', () => b.received.length === 1);
    const port = b.port;
    await b.close();
    running.splice(running.indexOf(b), 1);
    await waitFor('unreachable after the stream broke', () => a.unreachable.includes('b'));
    await waitFor('a sees b down', () => !a.transport.stats()[0]!.connected);
    const before = a.unreachable.length;
    a.transport.send([app('a', 'b', 2)]);
    await waitFor('unreachable for a dropped message', () => a.unreachable.length > before);
    assert.ok(a.transport.stats()[0]!.connectFailures >= 1);
    b = await member({ id: 'b', port });
    await waitFor('reconnected', () => a.transport.stats()[0]!.connected, 5_000);
    a.transport.send([app('a', 'b', 3)]);
    await waitFor('message after reconnect', () => b.received.length === 1);
    assert.equal(b.received[0]!.entries[0]!.index, 3);
  });

  test('drops and reports unreachable when the queue of a stuck peer is full, without growing', async () => {
    // A peer that accepts the stream and then never reads: writes back up, the queue fills.
    const sockets = new Set<net.Socket>();
    const stuck = net.createServer((s) => {
      sockets.add(s);
      s.once('data', () => {
        s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: deimos-raft-stream\r\n\r\n');
        s.pause();
      });
    });
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
    try {
      const a = await member({ id: 'a', limits: { maxMessages: 64, maxBytes: 1 << 20, maxUrgentMessages: 16 } });
      a.transport.addPeer('b', [`http://127.0.0.1:${(stuck.address() as AddressInfo).port}`]);
      await waitFor('connected to the stuck peer', () => a.transport.stats()[0]!.connected);
      const heap = process.memoryUsage().heapUsed;
      for (let round = 0; round < 200; round++) {
        a.transport.send(Array.from({ length: 50 }, (_, i) => app('a', 'b', round * 50 + i + 1, 16 * 1024)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const s = a.transport.stats()[0]!;
      assert.ok(s.queuedMessages <= 64, `queued ${s.queuedMessages}`);
      assert.ok(s.messagesDropped > 9000, `dropped ${s.messagesDropped}`);
      assert.ok(s.messagesSent + s.messagesDropped + s.queuedMessages === 10_000);
      assert.ok(a.unreachable.includes('b'));
      // 10 000 messages of 16 KiB (160 MiB) went in; what stays is bounded by queue and socket buffers.
      assert.ok(process.memoryUsage().heapUsed - heap < 80 * 1024 * 1024);
      // Heartbeats still get a lane of their own while the bulk lane is full.
      a.transport.send([heartbeat('a', 'b')]);
      assert.equal(a.transport.stats()[0]!.messagesDropped, s.messagesDropped);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => stuck.close(() => resolve()));
    }
  });

  test("a peer never measured shows etcd's starting minimum (the largest int64) and counts in etcd's order", () => {
    const s = new PeerStats('p', () => 0).snapshot();
    assert.equal(JSON.stringify(s.latency), '{"current":0,"average":0,"standardDeviation":0,"minimum":9223372036854776000,"maximum":0}');
    assert.equal(JSON.stringify(s.counts), '{"fail":0,"success":0}');
  });

  test('measures heartbeat round-trip latency per peer', async () => {
    const a = await member({ id: 'a' });
    const b = await member({ id: 'b' });
    connectAll([a, b]);
    b.transport.onMessage((m) => {
      if (m.type === MessageType.MsgHeartbeat) b.transport.send([{ ...heartbeat('b', 'a'), type: MessageType.MsgHeartbeatResp }]);
    });
    for (let i = 0; i < 5; i++) {
      a.transport.send([heartbeat('a', 'b')]);
      await waitFor('response', () => a.received.length === i + 1);
    }
    const s = a.transport.stats()[0]!;
    assert.equal(s.latencySamples, 5);
    assert.ok(s.latency.maximum >= s.latency.minimum && s.latency.minimum > 0);
    assert.ok(s.latency.average > 0 && s.latency.standardDeviation >= 0);
    assert.equal(s.counts.success, 5);
  });
});
