/**
 * The receiving end of `POST /raft/snapshot` (layout in snapshot-sender.ts): streams the file into
 * a temp file under the snapshot directory while computing its CRC32C, checks size and checksum,
 * fsyncs the file, renames it to its final name and fsyncs the directory, lets the member read it
 * (`prepareFile`), then hands the MsgSnap to the raft loop with `snapshot.data` set to the UTF-8
 * bytes of the file's path and answers 204.
 * Any failure removes the temp file and answers 4xx (or drops the connection if it is gone).
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { CodecError, decodeMessage, encodeUtf8, MessageType, type Message, type NodeId } from '@deimos/protocol';
import type { Logger } from '../util/logger.js';
import { crc32c } from '../wal/crc32c.js';
import { FRAME_HEADER_BYTES } from './frame-codec.js';
import { HEADER_SNAPSHOT_SIZE, refuse } from './peer-headers.js';
import { TransportError } from './transport-errors.js';

/** What {@link receiveSnapshot} needs from the transport. */
export interface SnapshotReceiverContext {
  localId: NodeId;
  snapshotDir: string;
  maxSnapshotBytes: number;
  /** The transfer fails when no bytes arrive for this long. */
  idleTimeoutMs: number;
  logger: Logger;
  deliver(m: Message): void;
  onBytes(n: number): void;
  /** Throws when the received file cannot be installed; the transfer is then refused (400). */
  checkFile?: (path: string) => void;
  /**
   * Work on the received file (at its final path) before raft gets the MsgSnap: reading its state
   * while raft runs on. Rejects when the file cannot be installed; the transfer is then refused (400).
   */
  prepareFile?: (path: string) => Promise<void>;
  /** The member's applied index (see {@link removeStaleReceived}). */
  appliedIndex?: () => number;
}

/** How often a transfer whose file is being read (`prepareFile`) is told so (102 Processing), at most. */
const PROCESSING_EVERY_MS = 5_000;
/** ...and at least (a tiny idle timeout must not make it a stream of 102s). */
const MIN_PROCESSING_EVERY_MS = 50;

/** Largest encoded MsgSnap (without data) accepted in front of the file. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Name of a received snapshot file: term and index in 16 hex digits each, and the sender. */
export function receivedSnapshotName(m: Message): string {
  const hex = (n: number) => n.toString(16).padStart(16, '0');
  const meta = m.snapshot!.metadata;
  return `received-${hex(meta.term)}-${hex(meta.index)}-${m.from}.snap`;
}

/**
 * Removes the files of snapshot transfers and installs that a stop or crash cut short: the partial
 * downloads, received snapshots not installed (an install removes its file once done), and copies
 * made for sending. None outlives a restart: the raft core asks for (or sends) a snapshot anew.
 * Call once at startup, before the transport serves requests. Returns how many were removed.
 */
export async function removeIncompleteSnapshots(snapshotDir: string): Promise<number> {
  const stale = (await readdir(snapshotDir)).filter((name) => (name.startsWith('.incoming-') && name.endsWith('.tmp'))
    || (name.startsWith('received-') && name.endsWith('.snap')) || (name.startsWith('send-') && name.endsWith('.db')));
  await Promise.all(stale.map((name) => rm(join(snapshotDir, name), { force: true })));
  return stale.length;
}

/**
 * Removes received snapshot files at or below `appliedIndex`: raft installs only a snapshot past
 * its commit index, so these (a transfer that raft ignored, one that arrived late) would stay for
 * ever. One that is still to be installed is above it.
 */
export async function removeStaleReceived(snapshotDir: string, appliedIndex: number): Promise<number> {
  const stale = (await readdir(snapshotDir)).filter((name) => {
    const m = /^received-[0-9a-f]{16}-([0-9a-f]{16})-[0-9a-f]+\.snap$/.exec(name);
    return m !== null && parseInt(m[1]!, 16) <= appliedIndex;
  });
  await Promise.all(stale.map((name) => rm(join(snapshotDir, name), { force: true })));
  return stale.length;
}

/** Serves one inbound snapshot transfer from `from`; never rejects. */
export async function receiveSnapshot(req: IncomingMessage, res: ServerResponse, from: NodeId, ctx: SnapshotReceiverContext): Promise<void> {
  const size = Number(req.headers[HEADER_SNAPSHOT_SIZE]);
  if (!Number.isSafeInteger(size) || size < 0) return refuse(res, 400, `missing or malformed ${HEADER_SNAPSHOT_SIZE} header`);
  if (size > ctx.maxSnapshotBytes) return refuse(res, 413, `snapshot of ${size} bytes exceeds the limit of ${ctx.maxSnapshotBytes}`);
  const tmpPath = join(ctx.snapshotDir, `.incoming-${from}-${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => req.destroy(new TransportError('ERR_PEER_TIMEOUT', `snapshot transfer idle for ${ctx.idleTimeoutMs} ms`)), ctx.idleTimeoutMs);
  };
  try {
    touch();
    fh = await open(tmpPath, 'wx');
    const m = await readBody(req, fh, size, { from, to: ctx.localId }, touch, ctx.onBytes);
    clearTimeout(idle);
    await fh.sync();
    await fh.close();
    fh = undefined;
    try {
      ctx.checkFile?.(tmpPath);
    } catch (err) {
      // Raft would take it and fail to install it, at every try: refused here instead.
      throw new TransportError('ERR_SNAPSHOT_INVALID', `snapshot file refused: ${(err as Error).message}`);
    }
    const finalPath = join(ctx.snapshotDir, receivedSnapshotName(m));
    await rename(tmpPath, finalPath);
    await syncDir(ctx.snapshotDir);
    ctx.logger.info('received snapshot', { peer: from, index: m.snapshot!.metadata.index, bytes: size });
    // A big state takes a while to read: 102s keep the sender's idle timer from ending the transfer.
    const processing = setInterval(() => {
      if (!res.headersSent && res.writable) res.writeProcessing();
    }, Math.max(MIN_PROCESSING_EVERY_MS, Math.min(PROCESSING_EVERY_MS, ctx.idleTimeoutMs / 3)));
    try {
      await ctx.prepareFile?.(finalPath);
    } catch (err) {
      await rm(finalPath, { force: true });
      throw new TransportError('ERR_SNAPSHOT_INVALID', `snapshot file refused: ${(err as Error).message}`);
    } finally {
      clearInterval(processing);
    }
    if (ctx.appliedIndex !== undefined) await removeStaleReceived(ctx.snapshotDir, ctx.appliedIndex());
    ctx.deliver({ ...m, snapshot: { ...m.snapshot!, data: encodeUtf8(finalPath) } });
    res.writeHead(204, { connection: 'close' });
    res.end();
  } catch (err) {
    clearTimeout(idle);
    await fh?.close();
    await rm(tmpPath, { force: true });
    const message = err instanceof Error ? err.message : String(err);
    ctx.logger.warn('snapshot transfer failed', { peer: from, error: message });
    // The body iterator destroys `req` when it ends, so ask whether the answer can still be written.
    if (err instanceof TransportError && err.code !== 'ERR_PEER_TIMEOUT' && res.writable && !res.socket?.destroyed) refuse(res, 400, message);
    else res.destroy();
  }
}

/** Reads header, file and trailer from the body into `fh`; returns the MsgSnap once all checks pass. */
async function readBody(req: IncomingMessage, fh: FileHandle, size: number, ids: { from: NodeId; to: NodeId }, touch: () => void, onBytes: (n: number) => void): Promise<Message> {
  let head = Buffer.alloc(0);
  let message: Message | undefined;
  let fileBytes = 0;
  let crc = 0;
  let trailer = Buffer.alloc(0);
  for await (const data of req as AsyncIterable<Buffer>) {
    touch();
    onBytes(data.length);
    let chunk = data;
    if (message === undefined) {
      head = Buffer.concat([head, chunk]);
      if (head.length < FRAME_HEADER_BYTES) continue;
      const length = head.readUInt32BE(0);
      if (length > MAX_MESSAGE_BYTES) throw malformed(`snapshot message of ${length} bytes is too large`);
      if (head.length < FRAME_HEADER_BYTES + length) continue;
      message = parseMessage(head.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length), ids);
      chunk = head.subarray(FRAME_HEADER_BYTES + length);
    }
    const forFile = Math.min(chunk.length, size - fileBytes);
    if (forFile > 0) {
      const part = chunk.subarray(0, forFile);
      crc = crc32c(part, crc);
      await writeAll(fh, part);
      fileBytes += forFile;
    }
    trailer = Buffer.concat([trailer, chunk.subarray(forFile)]);
    if (trailer.length > 4) throw malformed('bytes after the snapshot checksum');
  }
  if (message === undefined || fileBytes !== size || trailer.length !== 4) {
    throw new TransportError('ERR_SNAPSHOT_SIZE', `snapshot body ended early: ${fileBytes} of ${size} file bytes`);
  }
  const expected = trailer.readUInt32BE(0);
  if (expected !== crc) {
    throw new TransportError('ERR_SNAPSHOT_CRC', `snapshot checksum mismatch: sent ${expected.toString(16)}, received data has ${crc.toString(16)}`);
  }
  return message;
}

function parseMessage(bytes: Uint8Array, { from, to }: { from: NodeId; to: NodeId }): Message {
  let m: Message;
  try {
    m = decodeMessage(bytes);
  } catch (err) {
    if (err instanceof CodecError) throw malformed(`bad snapshot message: ${err.message}`);
    throw err;
  }
  if (m.type !== MessageType.MsgSnap || m.snapshot === undefined) throw malformed(`expected a MsgSnap, got type ${m.type}`);
  if (m.from !== from) throw malformed(`MsgSnap from ${m.from} on a transfer from ${from}`);
  if (m.to !== to) throw malformed(`MsgSnap for ${m.to} on a transfer to ${to}`);
  return m;
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function malformed(message: string): TransportError {
  return new TransportError('ERR_SNAPSHOT_MALFORMED', message);
}
