import { MessageType, type Message } from '../raft-types.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { CodecError } from './codec-error.js';
import { entriesSizeHint, readEntries, writeEntries } from './entry-codec.js';
import { checkEnumValue, decodeRecord, encodeRecord, RecordKind } from './record-header.js';
import { readSnapshot, snapshotSizeHint, writeSnapshot } from './snapshot-codec.js';

const FLAG_REJECT = 1;
const FLAG_SNAPSHOT = 2;
const KNOWN_FLAGS = FLAG_REJECT | FLAG_SNAPSHOT;

/**
 * The smallest encoded message: type, flags, two 8-byte ids, five 1-byte varints, an empty
 * entry count and an empty context.
 */
export const MIN_MESSAGE_BYTES = 1 + 1 + 16 + 5 + 1 + 1;

/**
 * Writes a message (no header): type u8, flags u8 (bit 0 reject, bit 1 snapshot present),
 * to, from, term, logTerm, index, commit, rejectHint, entries, context, then the snapshot if any.
 */
export function writeMessage(w: ByteWriter, m: Message): void {
  w.writeUint8(checkEnumValue(m.type, MessageType.MsgPreVoteResp, 'message type'));
  w.writeUint8((m.reject ? FLAG_REJECT : 0) | (m.snapshot !== undefined ? FLAG_SNAPSHOT : 0));
  w.writeNodeId(m.to);
  w.writeNodeId(m.from);
  w.writeVarint(m.term);
  w.writeVarint(m.logTerm);
  w.writeVarint(m.index);
  w.writeVarint(m.commit);
  w.writeVarint(m.rejectHint);
  writeEntries(w, m.entries);
  w.writeBytes(m.context);
  if (m.snapshot !== undefined) writeSnapshot(w, m.snapshot);
}

/** Reads a message written by {@link writeMessage}. */
export function readMessage(r: ByteReader): Message {
  const type = checkEnumValue(r.readUint8(), MessageType.MsgPreVoteResp, 'message type') as MessageType;
  const flags = r.readUint8();
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new CodecError(`unknown message flags 0x${flags.toString(16)} at offset ${r.offset - 1}`);
  const to = r.readNodeId();
  const from = r.readNodeId();
  const term = r.readVarint();
  const logTerm = r.readVarint();
  const index = r.readVarint();
  const commit = r.readVarint();
  const rejectHint = r.readVarint();
  const entries = readEntries(r);
  const context = r.readBytes();
  const reject = (flags & FLAG_REJECT) !== 0;
  if ((flags & FLAG_SNAPSHOT) === 0) {
    return { type, to, from, term, logTerm, index, entries, commit, reject, rejectHint, context };
  }
  const snapshot = readSnapshot(r);
  return { type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context };
}

/** An upper bound on the encoded size of a message. */
export function messageSizeHint(m: Message): number {
  const fixed = 2 + 16 + 5 * 8 + 5;
  const snapshot = m.snapshot !== undefined ? snapshotSizeHint(m.snapshot) : 0;
  return fixed + entriesSizeHint(m.entries) + m.context.length + snapshot;
}

/** Encodes one message as a versioned top-level record. */
export function encodeMessage(m: Message): Uint8Array {
  return encodeRecord(RecordKind.Message, m, messageSizeHint(m), writeMessage);
}

/** Decodes bytes from {@link encodeMessage}; throws a CodecError on malformed input. */
export function decodeMessage(bytes: Uint8Array): Message {
  return decodeRecord(bytes, RecordKind.Message, readMessage);
}
