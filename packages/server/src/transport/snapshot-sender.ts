/**
 * Sends one snapshot file to a peer over its own `POST /raft/snapshot`, so a transfer of gigabytes
 * never sits in front of heartbeats on the message stream. Body layout (Content-Length known up
 * front): a u32 big-endian length and the encoded MsgSnap without its data, then the file's bytes,
 * then a u32 big-endian CRC32C of the file. The peer answers 204 once the file is verified, durable
 * and handed to its raft loop; anything else is a failure.
 */
import { createReadStream } from 'node:fs';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { EMPTY_BYTES, encodeMessage, type Message } from '@deimos/protocol';
import { crc32c } from '../wal/crc32c.js';
import { encodeFrame } from './frame-codec.js';
import { HEADER_SNAPSHOT_SIZE } from './peer-headers.js';
import { errorMessageOf, openPeerRequest, readSmallBody, type PeerTlsSource } from './peer-request.js';
import { TransportError } from './transport-errors.js';

/** A snapshot file ready to send. */
export interface SnapshotFile {
  path: string;
  sizeBytes: number;
}

/**
 * Produces the file behind a MsgSnap (the lead's checkpoint of the state database). `release`,
 * when given, is called once the transfer ended either way (for example to delete the file).
 */
export interface SnapshotSource {
  open(m: Message): SnapshotFile | Promise<SnapshotFile>;
  release?(file: SnapshotFile, m: Message): void;
}

/** Options of {@link sendSnapshot}. */
export interface SendSnapshotOptions {
  url: URL;
  /** Identity headers of the request. */
  headers: OutgoingHttpHeaders;
  tls?: PeerTlsSource;
  message: Message;
  file: SnapshotFile;
  chunkBytes: number;
  /** The transfer fails when the socket is idle this long (a stalled peer or network). */
  idleTimeoutMs: number;
  /** Aborts the transfer (transport closing, peer removed). */
  signal: AbortSignal;
  /** Counts bytes as they are written. */
  onBytes?: (n: number) => void;
}

/** Sends the snapshot; resolves once the peer accepted it, throws otherwise. */
export async function sendSnapshot(opts: SendSnapshotOptions): Promise<void> {
  if (opts.signal.aborted) throw closedError();
  const { snapshot } = opts.message;
  const header = encodeFrame(encodeMessage({ ...opts.message, snapshot: snapshot && { ...snapshot, data: EMPTY_BYTES } }));
  const total = header.length + opts.file.sizeBytes + 4;
  const req = openPeerRequest(opts.url, {
    ...opts.headers,
    'content-type': 'application/octet-stream',
    'content-length': total,
    [HEADER_SNAPSHOT_SIZE]: String(opts.file.sizeBytes),
  }, opts.tls);
  const call = new RequestWatch(req, opts.idleTimeoutMs);
  const onAbort = () => req.destroy(closedError());
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await call.write(header);
    opts.onBytes?.(header.length);
    let crc = 0;
    let sent = 0;
    for await (const chunk of createReadStream(opts.file.path, { highWaterMark: opts.chunkBytes }) as AsyncIterable<Buffer>) {
      sent += chunk.length;
      if (sent > opts.file.sizeBytes) break;
      crc = crc32c(chunk, crc);
      if (call.response !== undefined) break;
      await call.write(chunk);
      opts.onBytes?.(chunk.length);
    }
    if (call.response === undefined) {
      if (sent !== opts.file.sizeBytes) {
        throw new TransportError('ERR_SNAPSHOT_SIZE', `snapshot file ${opts.file.path} has ${sent} bytes, expected ${opts.file.sizeBytes}`);
      }
      const trailer = Buffer.allocUnsafe(4);
      trailer.writeUInt32BE(crc, 0);
      req.end(trailer);
    }
    const res = await call.responded;
    const body = await new Promise<string>((resolve) => readSmallBody(res, 4096, resolve));
    if (res.statusCode !== 204) {
      throw new TransportError('ERR_PEER_REFUSED', `peer refused the snapshot (${res.statusCode}): ${errorMessageOf(body)}`, res.statusCode);
    }
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    call.dispose();
  }
}

/** Tracks a request's response, failure and drain events as promises. */
class RequestWatch {
  response: IncomingMessage | undefined;
  readonly responded: Promise<IncomingMessage>;
  private failure: Error | undefined;
  private readonly waiters = new Set<(err: Error | undefined) => void>();

  constructor(private readonly req: ClientRequest, idleTimeoutMs: number) {
    this.responded = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', (res) => {
        this.response = res;
        resolve(res);
        this.wake(undefined);
      });
      req.on('error', (err) => this.fault(err, reject));
      req.on('close', () => this.fault(new Error('connection closed before the peer answered'), reject));
    });
    // A failure before anyone awaits `responded` is reported through write() instead.
    this.responded.catch(() => undefined);
    req.on('drain', () => this.wake(undefined));
    req.setTimeout(idleTimeoutMs, () => {
      req.destroy(new TransportError('ERR_PEER_TIMEOUT', `snapshot transfer idle for ${idleTimeoutMs} ms`));
    });
  }

  /** Writes a chunk, waiting for the socket to drain when it is backed up. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.req.write(chunk)) return;
    const err = await new Promise<Error | undefined>((resolve) => this.waiters.add(resolve));
    if (err !== undefined) throw err;
  }

  dispose(): void {
    this.req.destroy();
  }

  private fault(err: Error, reject: (err: Error) => void): void {
    if (this.failure !== undefined || this.response !== undefined) return;
    this.failure = err;
    reject(err);
    this.wake(err);
  }

  private wake(err: Error | undefined): void {
    for (const w of this.waiters) w(err);
    this.waiters.clear();
  }
}

function closedError(): TransportError {
  return new TransportError('ERR_TRANSPORT_CLOSED', 'snapshot transfer aborted');
}
