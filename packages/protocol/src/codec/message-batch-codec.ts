import type { Message } from '../raft-types.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { messageSizeHint, MIN_MESSAGE_BYTES, readMessage, writeMessage } from './message-codec.js';
import { decodeRecord, encodeRecord, RecordKind } from './record-header.js';

/**
 * Encodes many messages for one peer connection as a single versioned frame: header, message
 * count, then the messages back to back. One frame per flush amortises the header and the
 * transport's own framing over the whole batch.
 */
export function encodeMessageBatch(messages: readonly Message[]): Uint8Array {
  let sizeHint = 5;
  for (let i = 0; i < messages.length; i++) sizeHint += messageSizeHint(messages[i]!);
  return encodeRecord(RecordKind.MessageBatch, messages, sizeHint, writeMessageBatch);
}

/** Decodes a frame from {@link encodeMessageBatch}; throws a CodecError on malformed input. */
export function decodeMessageBatch(bytes: Uint8Array): Message[] {
  return decodeRecord(bytes, RecordKind.MessageBatch, readMessageBatch);
}

function writeMessageBatch(w: ByteWriter, messages: readonly Message[]): void {
  w.writeVarint(messages.length);
  for (let i = 0; i < messages.length; i++) writeMessage(w, messages[i]!);
}

function readMessageBatch(r: ByteReader): Message[] {
  const n = r.readLength(MIN_MESSAGE_BYTES);
  const messages: Message[] = [];
  for (let i = 0; i < n; i++) messages.push(readMessage(r));
  return messages;
}
