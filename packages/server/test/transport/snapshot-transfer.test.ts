import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { decodeUtf8, encodeMessage, makeMessage, MessageType, type Message } from '@deimos/protocol';
import { encodeFrame } from '../../src/transport/frame-codec.js';
import { HEADER_SNAPSHOT_SIZE } from '../../src/transport/peer-headers.js';
import { SnapshotStatus } from '@deimos/raft';
import { removeIncompleteSnapshots, type SnapshotSource } from '../../src/transport/index.js';
import type { Logger } from '../../src/util/logger.js';
import { heartbeat, startMember, startProxy, waitFor, writeRandomFile, type TestMember, type TestProxy } from './support.js';

const SNAPSHOT_BYTES = 20 * 1024 * 1024;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function msgSnap(): Message {
  return makeMessage({
    type: MessageType.MsgSnap, from: 'a', to: 'b', term: 2,
    snapshot: { metadata: { index: 100, term: 2, confState: { voters: ['a', 'b'], learners: [] } }, data: new Uint8Array([1, 2, 3]) },
  });
}

interface Pair {
  a: TestMember;
  b: TestMember;
  proxy: TestProxy;
  file: string;
  released: string[];
  /** Warnings logged by each side. */
  warnings: { a: string[]; b: string[] };
}

interface PairOptions {
  /** b's check of a received file (a member's: is it a state database). */
  checkSnapshotFile?: (path: string) => void;
  /** b's read of a received file before raft gets it (a member's: the snapshot preload). */
  prepareSnapshotFile?: (path: string) => Promise<void>;
  appliedIndex?: () => number;
  corruptAtByte?: number;
  delayPerChunkMs?: number;
  fileBytes?: number;
  claimedBytes?: number;
  aLimits?: object;
  bLimits?: object;
}

/** Leader `a` sends to follower `b` through a proxy that slows (and maybe corrupts) snapshot bytes. */
async function pair(opts: PairOptions): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-snapsrc-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = writeRandomFile(dir, 'checkpoint.db', opts.fileBytes ?? SNAPSHOT_BYTES);
  const released: string[] = [];
  const source: SnapshotSource = {
    open: async () => ({ path: file, sizeBytes: opts.claimedBytes ?? statSync(file).size }),
    release: (f) => released.push(f.path),
  };
  const warnings = { a: [] as string[], b: [] as string[] };
  const a = await startMember({ id: 'a', snapshotSource: source, limits: opts.aLimits, logger: recorder(warnings.a) });
  const b = await startMember({
    id: 'b', limits: opts.bLimits, logger: recorder(warnings.b),
    ...(opts.checkSnapshotFile ? { checkSnapshotFile: opts.checkSnapshotFile } : {}),
    ...(opts.prepareSnapshotFile ? { prepareSnapshotFile: opts.prepareSnapshotFile } : {}), ...(opts.appliedIndex ? { appliedIndex: opts.appliedIndex } : {}),
  });
  const proxy = await startProxy(b.port, { corruptAtByte: opts.corruptAtByte, delayPerChunkMs: opts.delayPerChunkMs ?? 1 });
  cleanup.push(() => a.close(), () => b.close(), () => proxy.close());
  a.transport.addPeer('b', [proxy.url]);
  b.transport.addPeer('a', [a.url]);
  return { a, b, proxy, file, released, warnings };
}

function recorder(into: string[]): Logger {
  const warn = (msg: string, fields?: Record<string, unknown>) => into.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  return { debug() {}, info() {}, warn, error: warn };
}

/** Sends heartbeats a -> b every 5 ms until stopped. */
function heartbeats(p: Pair): () => void {
  const timer = setInterval(() => p.a.transport.send([heartbeat('a', 'b')]), 5);
  cleanup.push(() => clearInterval(timer));
  return () => clearInterval(timer);
}

const heartbeatsAt = (m: TestMember) => m.received.filter((x) => x.type === MessageType.MsgHeartbeat).length;
const leftovers = (m: TestMember) => readdirSync(m.snapshotDir);

describe('snapshot transfer', () => {
  test('moves a 20 MB snapshot with a CRC check while heartbeats keep flowing', async () => {
    const p = await pair({});
    const stop = heartbeats(p);
    await waitFor('stream up', () => heartbeatsAt(p.b) > 0);
    const before = heartbeatsAt(p.b);
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot finished', () => p.a.snapshotStatuses.length > 0, 20_000);
    stop();
    assert.deepEqual(p.a.snapshotStatuses, [{ id: 'b', status: SnapshotStatus.Finish }]);
    const during = heartbeatsAt(p.b) - before;
    assert.ok(during >= 5, `only ${during} heartbeats arrived during the transfer`);
    assert.deepEqual(p.warnings.a, []);
    const snap = p.b.received.find((m) => m.type === MessageType.MsgSnap)!;
    assert.equal(snap.from, 'a');
    assert.equal(snap.snapshot!.metadata.index, 100);
    assert.deepEqual(snap.snapshot!.metadata.confState.voters, ['a', 'b']);
    const path = decodeUtf8(snap.snapshot!.data);
    assert.ok(path.startsWith(p.b.snapshotDir));
    assert.ok(readFileSync(path).equals(readFileSync(p.file)), 'received file equals the sent file');
    assert.deepEqual(leftovers(p.b), [path.slice(p.b.snapshotDir.length + 1)]);
    assert.deepEqual(p.released, [p.file]);
    assert.ok(p.a.transport.stats()[0]!.bytesSent > SNAPSHOT_BYTES);
  });

  test('rejects a transfer corrupted on the wire with Failure and removes the temp file', async () => {
    const p = await pair({ corruptAtByte: 10_000_000 });
    const stop = heartbeats(p);
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0, 20_000);
    stop();
    assert.deepEqual(p.a.snapshotStatuses, [{ id: 'b', status: SnapshotStatus.Failure }]);
    assert.match(p.warnings.b.join('\n'), /checksum mismatch/);
    assert.match(p.warnings.a.join('\n'), /peer refused the snapshot \(400\)/);
    assert.equal(p.b.received.filter((m) => m.type === MessageType.MsgSnap).length, 0);
    assert.ok(heartbeatsAt(p.b) > 0);
    await waitFor('temp file removed', () => leftovers(p.b).length === 0);
    assert.deepEqual(p.released, [p.file]);
  });

  test('refuses (400) a whole file the member could not install, before raft sees it, and removes it', async () => {
    const p = await pair({ fileBytes: 100_000, checkSnapshotFile: () => { throw new Error('not a store snapshot'); } });
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0);
    assert.deepEqual(p.a.snapshotStatuses, [{ id: 'b', status: SnapshotStatus.Failure }]);
    assert.match(p.warnings.b.join('\n'), /snapshot file refused: not a store snapshot/);
    assert.equal(p.b.received.filter((m) => m.type === MessageType.MsgSnap).length, 0);
    await waitFor('nothing left', () => readdirSync(p.b.snapshotDir).length === 0);
  });

  test('the member reads the received file before raft gets the MsgSnap, heartbeats delivered meanwhile', async () => {
    let p: Pair | undefined;
    const prepared: string[] = [];
    let heartbeatsDuringPrepare = 0;
    p = await pair({
      fileBytes: 100_000,
      prepareSnapshotFile: async (path) => {
        assert.ok(existsSync(path), 'the file is at its final path');
        assert.equal(p!.b.received.filter((m) => m.type === MessageType.MsgSnap).length, 0, 'raft has not seen it yet');
        const before = heartbeatsAt(p!.b);
        await waitFor('heartbeats during the read', () => heartbeatsAt(p!.b) >= before + 3);
        heartbeatsDuringPrepare = heartbeatsAt(p!.b) - before;
        prepared.push(path);
      },
    });
    heartbeats(p);
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p!.a.snapshotStatuses.length > 0);
    assert.deepEqual(p.a.snapshotStatuses, [{ id: 'b', status: SnapshotStatus.Finish }]);
    const delivered = p.b.received.filter((m) => m.type === MessageType.MsgSnap);
    assert.equal(delivered.length, 1);
    assert.deepEqual(prepared, [decodeUtf8(delivered[0]!.snapshot!.data)]);
    assert.ok(heartbeatsDuringPrepare >= 3);
  });

  test('a read longer than the idle timeout keeps the transfer alive (102 Processing), not failed', async () => {
    const limits = { snapshotIdleTimeoutMs: 300 };
    const p = await pair({
      fileBytes: 100_000, aLimits: limits, bLimits: limits,
      prepareSnapshotFile: () => new Promise((resolve) => setTimeout(resolve, 1_200)),
    });
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0);
    assert.deepEqual(p.a.snapshotStatuses, [{ id: 'b', status: SnapshotStatus.Finish }], p.warnings.a.join('\n'));
    assert.equal(p.b.received.filter((m) => m.type === MessageType.MsgSnap).length, 1);
  });

  test('refuses (400) a file whose read fails, before raft sees it, and removes it', async () => {
    const p = await pair({ fileBytes: 100_000, prepareSnapshotFile: async () => { throw new Error('row of node /x does not match its sum'); } });
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0);
    assert.deepEqual(p.a.snapshotStatuses, [{ id: 'b', status: SnapshotStatus.Failure }]);
    assert.match(p.warnings.b.join('\n'), /snapshot file refused: row of node \/x does not match its sum/);
    assert.equal(p.b.received.filter((m) => m.type === MessageType.MsgSnap).length, 0);
    await waitFor('nothing left', () => readdirSync(p.b.snapshotDir).length === 0);
  });

  test('a received snapshot removes the received files at or below the applied index (raft can never install them)', async () => {
    const p = await pair({ fileBytes: 100_000, appliedIndex: () => 500 });
    const old = join(p.b.snapshotDir, 'received-0000000000000001-00000000000001f4-a.snap');
    const pending = join(p.b.snapshotDir, 'received-0000000000000001-00000000000001f5-a.snap');
    writeFileSync(old, 'stale');
    writeFileSync(pending, 'still to install');
    p.a.transport.send([msgSnap()]);
    await waitFor('delivered', () => p.b.received.some((m) => m.type === MessageType.MsgSnap));
    assert.ok(!existsSync(old), 'index 500 (the applied index) removed');
    assert.ok(existsSync(pending), 'index 501 kept');
  });

  test('a transfer whose header is not a MsgSnap is refused with 400, the member unharmed', async () => {
    const b = await startMember({ id: 'b', isMember: () => true });
    cleanup.push(() => b.close());
    const header = encodeFrame(encodeMessage(heartbeat('a', 'b')));
    for (let round = 0; round < 3; round++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${b.url}/raft/snapshot`, {
          method: 'POST', agent: false,
          headers: { 'x-deimos-cluster-id': 'c1', 'x-deimos-from': 'a', 'x-deimos-to': 'b', [HEADER_SNAPSHOT_SIZE]: '1000', 'content-type': 'application/octet-stream' },
        }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        // The header, then a body still coming: the refusal comes while the request is being read.
        req.write(header);
        req.write(Buffer.alloc(500));
        setTimeout(() => req.end(Buffer.alloc(504)), 50);
      });
      assert.equal(status, 400);
    }
    await new Promise((r) => setTimeout(r, 100)); // a crash in the refusal's 'finish' would come now
    assert.equal(b.received.length, 0);
  });

  test('fails a transfer whose file is shorter than announced', async () => {
    const p = await pair({ fileBytes: 1000, claimedBytes: 2000 });
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0);
    assert.equal(p.a.snapshotStatuses[0]!.status, SnapshotStatus.Failure);
    assert.match(p.warnings.a.join('\n'), /has 1000 bytes, expected 2000/);
    await waitFor('temp file removed', () => leftovers(p.b).length === 0);
  });

  test('refuses snapshots above the size limit on either end', async () => {
    const p = await pair({ fileBytes: 4096, bLimits: { maxSnapshotBytes: 1000 } });
    p.a.transport.send([msgSnap()]);
    await waitFor('receiver refusal', () => p.a.snapshotStatuses.length > 0);
    assert.equal(p.a.snapshotStatuses[0]!.status, SnapshotStatus.Failure);
    assert.ok(p.b.requests.some((r) => r.path === '/raft/snapshot' && r.status === 413));
    const q = await pair({ fileBytes: 4096, aLimits: { maxSnapshotBytes: 1000 } });
    q.a.transport.send([msgSnap()]);
    await waitFor('sender refusal', () => q.a.snapshotStatuses.length > 0);
    assert.equal(q.a.snapshotStatuses[0]!.status, SnapshotStatus.Failure);
    assert.equal(q.b.requests.filter((r) => r.path === '/raft/snapshot').length, 0);
  });

  test('times out a transfer that stalls on the sender side', async () => {
    const p = await pair({ fileBytes: 4 * 1024 * 1024, delayPerChunkMs: 60_000, aLimits: { snapshotIdleTimeoutMs: 300 }, bLimits: { snapshotIdleTimeoutMs: 1_000 } });
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0);
    assert.equal(p.a.snapshotStatuses[0]!.status, SnapshotStatus.Failure);
    assert.match(p.warnings.a.join('\n'), /idle for 300 ms/);
    await waitFor('temp file removed', () => leftovers(p.b).length === 0 && p.warnings.b.length > 0);
  });

  test('times out a transfer that stalls on the receiver side', async () => {
    const p = await pair({ fileBytes: 4 * 1024 * 1024, delayPerChunkMs: 60_000, bLimits: { snapshotIdleTimeoutMs: 300 } });
    p.a.transport.send([msgSnap()]);
    await waitFor('snapshot outcome', () => p.a.snapshotStatuses.length > 0);
    assert.equal(p.a.snapshotStatuses[0]!.status, SnapshotStatus.Failure);
    await waitFor('receiver gave up', () => /idle for 300 ms/.test(p.warnings.b.join('\n')));
    await waitFor('temp file removed', () => leftovers(p.b).length === 0);
  });

  test('reports Failure for a MsgSnap to an unknown peer or without a snapshot source', async () => {
    const a = await startMember({ id: 'a' });
    cleanup.push(() => a.close());
    a.transport.addPeer('b', ['http://127.0.0.1:1']);
    a.transport.send([msgSnap(), { ...msgSnap(), to: 'zz' }]);
    await waitFor('two outcomes', () => a.snapshotStatuses.length === 2);
    assert.deepEqual(a.snapshotStatuses.map((s) => s.status), [SnapshotStatus.Failure, SnapshotStatus.Failure]);
  });

  test('removes at startup what transfers and installs a crash cut short, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deimos-snapdir-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, '.incoming-a-0011aa.tmp'), 'partial');
    // Received whole but never installed (an install removes its file): the leader sends it again.
    writeFileSync(join(dir, 'received-0000000000000002-0000000000000064-a.snap'), 'whole');
    writeFileSync(join(dir, 'send-b-100-1.db'), 'a copy for a follower');
    writeFileSync(join(dir, 'notes.txt'), 'not ours');
    assert.equal(await removeIncompleteSnapshots(dir), 3);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
  });
});
