/**
 * The receiving end of a peer's stream: a `GET /raft/stream` upgraded to raw frames (answered 101),
 * or the older `POST /raft/stream` whose chunked body carries them (answered 200). Either way the
 * answer comes at once (the sender counts the stream as up from then on), then frames are decoded
 * incrementally and every message goes to the raft loop in arrival order. A malformed or oversized
 * frame destroys the connection; the sender reconnects and the raft core repairs whatever was lost.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CodecError, decodeMessageBatch, MessageType, type Message, type NodeId } from '@deimos/protocol';
import type { Logger } from '../util/logger.js';
import { FRAME_HEADER_BYTES, FrameDecoder } from './frame-codec.js';
import { TransportError } from './transport-errors.js';

/** Types only a node generates for itself; one arriving from a peer is a protocol violation. */
const LOCAL_ONLY = new Set<MessageType>([
  MessageType.MsgHup, MessageType.MsgBeat, MessageType.MsgUnreachable, MessageType.MsgSnapStatus, MessageType.MsgCheckQuorum,
]);

/**
 * Why a message from `from` must not reach the raft core, or undefined when it may: local-only
 * types, a MsgSnap outside the snapshot path (its data would be taken for a file path), or
 * addresses that disagree with the stream's identity headers.
 */
export function rejectReason(m: Message, from: NodeId, localId: NodeId): string | undefined {
  if (LOCAL_ONLY.has(m.type)) return `local-only message type ${MessageType[m.type]}`;
  if (m.type === MessageType.MsgSnap) return 'MsgSnap on the message stream';
  if (m.from !== from) return `message from ${m.from} on the stream of ${from}`;
  if (m.to !== localId) return `message for ${m.to} on a stream to ${localId}`;
  return undefined;
}

/** What a {@link receiveStream} needs from the transport. */
export interface StreamReceiverContext {
  localId: NodeId;
  /** The largest frame payload accepted. */
  maxFrameBytes: number;
  logger: Logger;
  /** Delivers the messages of one frame (`bytes` counts the frame with its header). */
  deliver(from: NodeId, messages: Message[], bytes: number): void;
  /** Notes that frames (keepalives included) arrived from the peer. */
  heard?(from: NodeId): void;
}

/** The upgrade token of a peer stream carried as raw frames (see {@link receiveRawStream}). */
export const RAW_STREAM_UPGRADE = 'deimos-raft-stream';

/**
 * Serves one inbound stream from `from` sent as the chunked body of a `POST /raft/stream` until
 * either side ends it (what members before the raw stream send).
 */
export function receiveStream(req: IncomingMessage, res: ServerResponse, from: NodeId, ctx: StreamReceiverContext): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.flushHeaders();
  req.socket.setNoDelay(true);
  req.socket.setKeepAlive(true, 2_000);
  req.on('data', frameReader(from, ctx, () => req.socket.destroy()));
  req.on('end', () => res.end());
}

/**
 * Serves one inbound stream from `from` that upgraded its `GET /raft/stream` to raw frames: answers
 * 101, then reads frames straight off the socket. A member's peers send their appends and
 * acknowledgements this way: no HTTP chunk framing to write, and no HTTP parser and body stream on
 * the consensus thread for every batch (measured there: about half of what receiving a batch cost).
 * `head` holds bytes that came with the request.
 */
export function receiveRawStream(socket: Duplex & { setNoDelay?(on: boolean): unknown; setKeepAlive?(on: boolean, delayMs: number): unknown }, head: Buffer, from: NodeId, ctx: StreamReceiverContext): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${RAW_STREAM_UPGRADE}\r\n\r\n`);
  socket.setNoDelay?.(true);
  socket.setKeepAlive?.(true, 2_000);
  const read = frameReader(from, ctx, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.end());
  if (head.length > 0) read(head);
  socket.on('data', read);
}

/** Decodes frames from a stream's chunks and delivers their messages; `cut` ends the connection. */
function frameReader(from: NodeId, ctx: StreamReceiverContext, cut: () => void): (chunk: Buffer) => void {
  const decoder = new FrameDecoder(ctx.maxFrameBytes);
  // The source may still hand over chunks it already had after the connection is destroyed.
  let dropped = false;
  const drop = (err: Error): void => {
    dropped = true;
    ctx.logger.warn('dropping peer stream with a bad frame or message', { peer: from, error: err.message });
    cut();
  };
  return (chunk: Buffer) => {
    if (dropped) return;
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      return drop(err);
    }
    if (frames.length > 0) ctx.heard?.(from);
    for (const frame of frames) {
      if (frame.length === 0) continue; // an empty frame is a keepalive
      let messages: Message[];
      try {
        messages = decodeMessageBatch(frame);
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        return drop(err);
      }
      for (const m of messages) {
        const reason = rejectReason(m, from, ctx.localId);
        if (reason !== undefined) return drop(new Error(reason));
      }
      ctx.deliver(from, messages, frame.length + FRAME_HEADER_BYTES);
    }
  };
}
