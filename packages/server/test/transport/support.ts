/** Test members for the transport tests: a PeerTransport behind a real node:http server on 127.0.0.1:0. */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType, makeMessage, MessageType, type Message, type NodeId } from '@deimos/protocol';
import type { SnapshotStatus } from '@deimos/raft';
import { PeerTransport, PEER_SERVER_OPTIONS, type PeerTransportOptions } from '../../src/transport/index.js';

/** One running test member. */
export interface TestMember {
  id: NodeId;
  url: string;
  port: number;
  transport: PeerTransport;
  received: Message[];
  unreachable: NodeId[];
  snapshotStatuses: Array<{ id: NodeId; status: SnapshotStatus }>;
  /** Every peer request the server saw: path and the status it was answered with. */
  requests: Array<{ path: string; status: number }>;
  snapshotDir: string;
  close(): Promise<void>;
}

/** Options of {@link startMember}; the transport options minus what the harness fills in. */
export type MemberOptions = Partial<PeerTransportOptions> & {
  id: NodeId;
  port?: number;
  /** False: a member of a build before raw streams (no upgrade listener; streams only as a chunked POST). */
  rawStreams?: boolean;
};

/** Starts a member listening on `port` (0 = any). */
export async function startMember(opts: MemberOptions): Promise<TestMember> {
  const snapshotDir = opts.snapshotDir ?? mkdtempSync(join(tmpdir(), 'deimos-transport-'));
  const { rawStreams: _raw, ...transportOptions } = opts;
  const transport = new PeerTransport({ clusterId: 'c1', ...transportOptions, localId: opts.id, snapshotDir });
  const requests: TestMember['requests'] = [];
  const server = http.createServer(PEER_SERVER_OPTIONS, (req, res) => {
    const entry = { path: req.url ?? '', status: 0 };
    requests.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    res.on('close', () => { if (entry.status === 0) entry.status = res.statusCode; });
    transport.handler(req, res);
    // A stream answers its head at once and never finishes.
    if (res.headersSent && entry.status === 0) entry.status = res.statusCode;
  });
  if (opts.rawStreams !== false) server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push({ path: req.url ?? '', status: transport.upgradeHandler(req, socket, head) });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const m: TestMember = {
    id: opts.id,
    url: `http://127.0.0.1:${port}`,
    port,
    transport,
    received: [],
    unreachable: [],
    snapshotStatuses: [],
    requests,
    snapshotDir,
    close: async () => {
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (opts.snapshotDir === undefined) rmSync(snapshotDir, { recursive: true, force: true });
    },
  };
  transport.onMessage((msg) => m.received.push(msg));
  transport.onUnreachable((id) => m.unreachable.push(id));
  transport.onSnapshotStatus((id, status) => m.snapshotStatuses.push({ id, status }));
  return m;
}

/** Makes every member a peer of every other. */
export function connectAll(members: TestMember[]): void {
  for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
}

/** Polls `cond` every 5 ms until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An MsgApp from `from` to `to` carrying one entry of index `index` with `dataBytes` bytes. */
export function app(from: NodeId, to: NodeId, index: number, dataBytes = 8): Message {
  return makeMessage({
    type: MessageType.MsgApp, from, to, term: 1, index: index - 1, logTerm: 1, commit: index,
    entries: [{ term: 1, index, type: EntryType.Normal, data: new Uint8Array(dataBytes).fill(index & 0xff) }],
  });
}

/** A MsgHeartbeat from `from` to `to`. */
export function heartbeat(from: NodeId, to: NodeId, commit = 0): Message {
  return makeMessage({ type: MessageType.MsgHeartbeat, from, to, term: 1, commit });
}

/** Writes a file of `sizeBytes` random bytes; returns its path. */
export function writeRandomFile(dir: string, name: string, sizeBytes: number): string {
  const path = join(dir, name);
  writeFileSync(path, randomBytes(sizeBytes));
  return path;
}

/** A TCP proxy in front of `targetPort` that can slow down or corrupt snapshot transfers. */
export interface TestProxy {
  url: string;
  close(): Promise<void>;
}

/** Options of {@link startProxy}: both apply to connections that start with `POST /raft/snapshot`. */
export interface ProxyOptions {
  /** Flips every bit of the byte at this offset of the connection's request bytes. */
  corruptAtByte?: number;
  /** Pauses this long after every chunk forwarded. */
  delayPerChunkMs?: number;
}

/** Starts a {@link TestProxy}. */
export async function startProxy(targetPort: number, opts: ProxyOptions): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let kind: 'unknown' | 'snapshot' | 'other' = 'unknown';
    let offset = 0;
    client.on('data', (data: Buffer) => {
      if (kind === 'unknown') kind = data.toString('latin1', 0, 24).startsWith('POST /raft/snapshot') ? 'snapshot' : 'other';
      let chunk = data;
      const at = opts.corruptAtByte;
      if (kind === 'snapshot' && at !== undefined && at >= offset && at < offset + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[at - offset] = chunk[at - offset]! ^ 0xff;
      }
      offset += chunk.length;
      if (!upstream.write(chunk)) client.pause();
      if (kind === 'snapshot' && opts.delayPerChunkMs !== undefined) {
        client.pause();
        const t = setTimeout(() => { timers.delete(t); client.resume(); }, opts.delayPerChunkMs);
        timers.add(t);
      }
    });
    upstream.on('drain', () => client.resume());
    upstream.pipe(client);
    // Half-closes pass through (so a response written before a close still arrives); errors cut both.
    const fail = () => { client.destroy(); upstream.destroy(); };
    for (const s of [client, upstream]) {
      s.on('error', fail);
      s.on('close', () => sockets.delete(s));
    }
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
