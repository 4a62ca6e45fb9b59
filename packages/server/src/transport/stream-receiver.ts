/**
 * The receiving end of a peer's `POST /raft/stream`: answers 200 at once (the sender counts the
 * stream as up from then on), then decodes frames incrementally and hands every message to the
 * raft loop in arrival order. A malformed or oversized frame destroys the connection; the sender
 * reconnects and the raft core repairs whatever was lost.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Serves one inbound stream from `from` until either side ends it. */
export function receiveStream(req: IncomingMessage, res: ServerResponse, from: NodeId, ctx: StreamReceiverContext): void {
  const decoder = new FrameDecoder(ctx.maxFrameBytes);
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.flushHeaders();
  req.socket.setNoDelay(true);
  req.socket.setKeepAlive(true, 2_000);
  // The HTTP parser may still push body chunks it already had after the socket is destroyed.
  let dropped = false;
  const drop = (err: Error): void => {
    dropped = true;
    ctx.logger.warn('dropping peer stream with a bad frame or message', { peer: from, error: err.message });
    req.socket.destroy();
  };
  req.on('data', (chunk: Buffer) => {
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
  });
  req.on('end', () => res.end());
}
