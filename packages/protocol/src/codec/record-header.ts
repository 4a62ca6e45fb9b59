import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { CodecError } from './codec-error.js';

/**
 * The binary format version written as the first byte of every top-level encoding. Bump it when
 * the layout changes; decoders reject versions they do not know instead of misreading them.
 */
export const CODEC_FORMAT_VERSION = 1;

/**
 * What a top-level encoding holds, written as its second byte, so that bytes of one kind handed to
 * the decoder of another fail loudly instead of decoding into garbage.
 */
export enum RecordKind {
  Entry = 1,
  Entries = 2,
  HardState = 3,
  ConfState = 4,
  ConfChange = 5,
  SnapshotMetadata = 6,
  Snapshot = 7,
  Message = 8,
  MessageBatch = 9,
}

/** Bytes of the version + kind header. */
export const RECORD_HEADER_BYTES = 2;

/** Encodes one top-level record: header, then the body written by `writeBody`. */
export function encodeRecord<T>(kind: RecordKind, value: T, sizeHintBytes: number, writeBody: (w: ByteWriter, value: T) => void): Uint8Array {
  const w = new ByteWriter(sizeHintBytes + RECORD_HEADER_BYTES);
  w.writeUint8(CODEC_FORMAT_VERSION);
  w.writeUint8(kind);
  writeBody(w, value);
  return w.finish();
}

/**
 * Decodes one top-level record, checking its header and that no bytes trail the body. The input is
 * copied once up front and byte fields are views into that copy: the result shares no memory with
 * `bytes` (so a reused receive buffer cannot change it), at the cost of one allocation per record
 * instead of one per field. Keeping any byte field alive keeps that whole copy alive.
 */
export function decodeRecord<T>(bytes: Uint8Array, kind: RecordKind, readBody: (r: ByteReader) => T): T {
  const r = new ByteReader(bytes.slice());
  readRecordHeader(r, kind);
  const value = readBody(r);
  r.expectEnd();
  return value;
}

/** Reads and checks the version + kind header. */
export function readRecordHeader(r: ByteReader, kind: RecordKind): void {
  if (r.remaining < RECORD_HEADER_BYTES) {
    throw new CodecError(`truncated input: ${r.remaining} bytes is too short for a ${RecordKind[kind]} record header`);
  }
  const version = r.readUint8();
  if (version !== CODEC_FORMAT_VERSION) {
    throw new CodecError(`unsupported codec format version ${version} (this build reads version ${CODEC_FORMAT_VERSION})`);
  }
  const got = r.readUint8();
  if (got !== kind) {
    throw new CodecError(`expected a ${RecordKind[kind]} record, found kind ${RecordKind[got] ?? got}`);
  }
}

/** Checks that an enum value read from or written to the wire is one this version knows. */
export function checkEnumValue(value: number, maxValue: number, what: string): number {
  if (!(value >= 0 && value <= maxValue && (value | 0) === value)) {
    throw new CodecError(`unknown ${what} ${value}`);
  }
  return value;
}
