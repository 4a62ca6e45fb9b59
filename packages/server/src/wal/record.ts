/**
 * WAL records: framing, payload encodings and their decoders.
 *
 * A record is `[u32 length][u32 crc32c][u8 type][payload]`, little-endian, where `length` counts
 * the type byte plus the payload and the CRC-32C covers exactly those `length` bytes. Integers in
 * payloads are little-endian; 64-bit values are written as two u32 halves (low first), and node IDs
 * (hex strings) are packed into 8 bytes.
 */
import assert from 'node:assert/strict';
import type { Entry, EntryType, HardState, NodeId, SnapshotMetadata } from '@deimos/protocol';
import { crc32c } from './crc32c.js';

/** Bytes before the type byte: the length and CRC fields. */
export const RECORD_HEADER_BYTES = 8;

/** The WAL format version written in every segment header. */
export const WAL_FORMAT_VERSION = 1;

/** Kinds of WAL records, with the stable numeric values stored on disk. */
export enum RecordType {
  /** First record of every segment: format version, sequence, first index, CRC chain link. */
  SegmentHeader = 1,
  /** Node ID and cluster ID; second record of every segment. */
  Metadata = 2,
  /** A raft hard state (term, vote, commit). */
  HardState = 3,
  /** A raft log entry (term, index, type, data). */
  Entry = 4,
  /** Entries at or before this index (of this term) are covered by the state machine. */
  SnapshotMarker = 5,
}

/** Who this log belongs to; written at the start of every segment. */
export interface WalMetadata {
  nodeId: NodeId;
  clusterId: NodeId;
}

/** The first record of a segment. `prevCrc` is the CRC of the previous segment's last record (0 for the first). */
export interface SegmentHeader {
  version: number;
  seq: number;
  firstIndex: number;
  prevCrc: number;
}

/** One decoded record. */
export type WalRecord =
  | { type: RecordType.SegmentHeader; header: SegmentHeader }
  | { type: RecordType.Metadata; metadata: WalMetadata }
  | { type: RecordType.HardState; hardState: HardState }
  | { type: RecordType.Entry; entry: Entry }
  | { type: RecordType.SnapshotMarker; snapshot: SnapshotMetadata };

const TWO_32 = 0x1_0000_0000;

function putU64(view: DataView, at: number, n: number): void {
  // (Messages built only on failure: this runs for every field of every record.)
  if (!(Number.isSafeInteger(n) && n >= 0)) assert.fail(`not a u64-safe integer: ${n}`);
  view.setUint32(at, n >>> 0, true);
  view.setUint32(at + 4, Math.floor(n / TWO_32), true);
}

function getU64(view: DataView, at: number): number {
  const n = view.getUint32(at + 4, true) * TWO_32 + view.getUint32(at, true);
  if (!Number.isSafeInteger(n)) throw new RangeError(`u64 at ${at} exceeds 2^53`);
  return n;
}

function putId(view: DataView, at: number, id: NodeId): void {
  assert.match(id, /^[0-9a-f]{1,16}$/, `not a 64-bit hex node id: ${id}`);
  view.setBigUint64(at, BigInt(`0x${id}`), true);
}

function getId(view: DataView, at: number): NodeId {
  return view.getBigUint64(at, true).toString(16);
}

/**
 * A growable buffer of encoded records, written to disk with one `write`.
 * `lastCrc` is the CRC of the most recently added record (the segment CRC chain needs it).
 */
export class RecordBatch {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  /** CRC of the last record added (0 while empty). */
  lastCrc = 0;

  constructor(capacityBytes = 256) {
    this.buf = new Uint8Array(Math.max(16, capacityBytes));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes encoded so far. */
  get byteLength(): number {
    return this.pos;
  }

  /** The encoded records (a view, valid until the next append). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Appends a segment header record. */
  segmentHeader(h: SegmentHeader): this {
    const p = this.begin(RecordType.SegmentHeader, 24);
    this.view.setUint32(p, h.version, true);
    putU64(this.view, p + 4, h.seq);
    putU64(this.view, p + 12, h.firstIndex);
    this.view.setUint32(p + 20, h.prevCrc, true);
    return this.end(24);
  }

  /** Appends a metadata record. */
  metadata(m: WalMetadata): this {
    const p = this.begin(RecordType.Metadata, 16);
    putId(this.view, p, m.nodeId);
    putId(this.view, p + 8, m.clusterId);
    return this.end(16);
  }

  /** Appends a hard state record. */
  hardState(hs: HardState): this {
    const p = this.begin(RecordType.HardState, 24);
    putU64(this.view, p, hs.term);
    putId(this.view, p + 8, hs.vote);
    putU64(this.view, p + 16, hs.commit);
    return this.end(24);
  }

  /** Appends an entry record. */
  entry(e: Entry): this {
    const len = 17 + e.data.length;
    const p = this.begin(RecordType.Entry, len);
    putU64(this.view, p, e.term);
    putU64(this.view, p + 8, e.index);
    if (!(e.type >= 0 && e.type <= 255)) assert.fail(`entry type out of range: ${e.type}`);
    this.buf[p + 16] = e.type;
    this.buf.set(e.data, p + 17);
    return this.end(len);
  }

  /** Appends a snapshot marker record (index, term and the configuration at that index). */
  snapshotMarker(meta: SnapshotMetadata): this {
    const { voters, learners } = meta.confState;
    const len = 16 + 4 + 8 * voters.length + 4 + 8 * learners.length;
    const p = this.begin(RecordType.SnapshotMarker, len);
    putU64(this.view, p, meta.index);
    putU64(this.view, p + 8, meta.term);
    let at = p + 16;
    for (const ids of [voters, learners]) {
      this.view.setUint32(at, ids.length, true);
      at += 4;
      for (const id of ids) {
        putId(this.view, at, id);
        at += 8;
      }
    }
    return this.end(len);
  }

  private begin(type: RecordType, payloadBytes: number): number {
    const need = this.pos + RECORD_HEADER_BYTES + 1 + payloadBytes;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.pos));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.buf[this.pos + RECORD_HEADER_BYTES] = type;
    return this.pos + RECORD_HEADER_BYTES + 1;
  }

  private end(payloadBytes: number): this {
    const length = 1 + payloadBytes;
    const bodyStart = this.pos + RECORD_HEADER_BYTES;
    const crc = crc32c(this.buf, 0, bodyStart, bodyStart + length);
    this.view.setUint32(this.pos, length, true);
    this.view.setUint32(this.pos + 4, crc, true);
    this.lastCrc = crc;
    this.pos = bodyStart + length;
    return this;
  }
}

/** Exact encoded size of an entry record, for sizing a batch up front. */
export function entryRecordBytes(e: Entry): number {
  return RECORD_HEADER_BYTES + 1 + 17 + e.data.length;
}

/** Encoded size of a hard state record. */
export const HARD_STATE_RECORD_BYTES = RECORD_HEADER_BYTES + 1 + 24;

function expectLength(payload: Uint8Array, bytes: number, what: string): void {
  if (payload.length !== bytes) throw new RangeError(`${what} payload is ${payload.length} bytes, want ${bytes}`);
}

/**
 * Decodes a record's payload (CRC already verified). Throws a RangeError on a malformed payload;
 * the reader turns that into a corruption error, since a CRC-valid malformed record is never torn.
 * Entry data is copied so the caller may drop the segment buffer.
 */
export function decodeRecord(type: number, payload: Uint8Array): WalRecord {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (type) {
    case RecordType.SegmentHeader:
      expectLength(payload, 24, 'segment header');
      return {
        type,
        header: { version: view.getUint32(0, true), seq: getU64(view, 4), firstIndex: getU64(view, 12), prevCrc: view.getUint32(20, true) },
      };
    case RecordType.Metadata:
      expectLength(payload, 16, 'metadata');
      return { type, metadata: { nodeId: getId(view, 0), clusterId: getId(view, 8) } };
    case RecordType.HardState:
      expectLength(payload, 24, 'hard state');
      return { type, hardState: { term: getU64(view, 0), vote: getId(view, 8), commit: getU64(view, 16) } };
    case RecordType.Entry:
      if (payload.length < 17) throw new RangeError(`entry payload is ${payload.length} bytes, want >= 17`);
      return {
        type,
        entry: { term: getU64(view, 0), index: getU64(view, 8), type: payload[16] as EntryType, data: payload.slice(17) },
      };
    case RecordType.SnapshotMarker:
      return { type, snapshot: decodeSnapshotMarker(view) };
    default:
      throw new RangeError(`unknown record type ${type}`);
  }
}

function decodeSnapshotMarker(view: DataView): SnapshotMetadata {
  const index = getU64(view, 0);
  const term = getU64(view, 8);
  let at = 16;
  const lists: NodeId[][] = [];
  for (let k = 0; k < 2; k++) {
    if (at + 4 > view.byteLength) throw new RangeError('snapshot marker truncated');
    const n = view.getUint32(at, true);
    at += 4;
    if (at + 8 * n > view.byteLength) throw new RangeError('snapshot marker id list overruns payload');
    const ids: NodeId[] = [];
    for (let i = 0; i < n; i++, at += 8) ids.push(getId(view, at));
    lists.push(ids);
  }
  if (at !== view.byteLength) throw new RangeError('snapshot marker has trailing bytes');
  return { index, term, confState: { voters: lists[0]!, learners: lists[1]! } };
}
