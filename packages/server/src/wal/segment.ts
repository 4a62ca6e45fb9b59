/**
 * WAL segments: file naming, directory listing, and scanning a segment's bytes into records with
 * a verdict on how the segment ends (cleanly, with a torn tail, or corrupt).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';
import { decodeRecord, RECORD_HEADER_BYTES, RecordType, type WalRecord } from './record.js';

/** Suffix of a segment being prepared; renamed into place once durable, deleted if found on open. */
export const TEMP_SUFFIX = '.tmp';

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** A segment file found in the WAL directory. */
export interface SegmentFile {
  name: string;
  path: string;
  seq: number;
  /** Index of the first entry expected in the segment when it was cut (a hint; overwrites may go lower). */
  firstIndex: number;
}

/** The file name of a segment: `<seq 16 hex>-<first index 16 hex>.wal`. */
export function segmentFileName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** Parses a segment file name; undefined when the name is not one. */
export function parseSegmentFileName(name: string): { seq: number; firstIndex: number } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { seq: Number.parseInt(m[1]!, 16), firstIndex: Number.parseInt(m[2]!, 16) };
}

/** Lists the segments of a WAL directory in sequence order, plus leftover temp files. */
export function listSegments(dir: string): { segments: SegmentFile[]; tempFiles: string[] } {
  const segments: SegmentFile[] = [];
  const tempFiles: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name.endsWith(TEMP_SUFFIX)) {
      tempFiles.push(join(dir, name));
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed) segments.push({ name, path: join(dir, name), ...parsed });
  }
  segments.sort((a, b) => a.seq - b.seq);
  return { segments, tempFiles };
}

/** A record read from a segment, with where it starts and its CRC (the segment chain links on it). */
export interface ScannedRecord {
  offset: number;
  crc: number;
  record: WalRecord;
}

/** How a scan ended: at the end of the bytes, at a torn tail, or at corruption. */
export type ScanEnd =
  | { kind: 'clean' }
  | { kind: 'torn'; offset: number; reason: string }
  | { kind: 'corrupt'; offset: number; reason: string };

/** The result of scanning one segment: the valid records, the bytes they span, and the verdict. */
export interface SegmentScan {
  records: ScannedRecord[];
  /** Bytes of valid records from the start; the file is truncated here when the tail is torn. */
  validBytes: number;
  /**
   * Zero bytes after the last record (a clean end): space the log preallocated, or a file extended
   * by a crash before its data reached the disk. Nothing was written there, so nothing is lost.
   */
  zeroTailBytes: number;
  end: ScanEnd;
}

/**
 * Reads records until the bytes end or a bad record is found.
 *
 * Zeros after the last record end the scan cleanly (see {@link SegmentScan.zeroTailBytes}). A bad
 * record is a torn tail only if it can be the last thing written: an incomplete header, a record
 * running past the end with nothing valid after it, or a CRC mismatch in the last record (the last
 * in the file, or the last before zeros: a torn write into preallocated space). Anything else is
 * corruption.
 */
export function scanSegment(bytes: Uint8Array): SegmentScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: ScannedRecord[] = [];
  let at = 0;
  const n = bytes.length;
  while (at < n) {
    const bad = (kind: 'torn' | 'corrupt', reason: string): SegmentScan => ({ records, validBytes: at, zeroTailBytes: 0, end: { kind, offset: at, reason } });
    const zeroTail = (): SegmentScan => ({ records, validBytes: at, zeroTailBytes: n - at, end: { kind: 'clean' } });
    if (n - at < RECORD_HEADER_BYTES) return isAllZero(bytes, at) ? zeroTail() : bad('torn', 'incomplete record header');
    const length = view.getUint32(at, true);
    const stored = view.getUint32(at + 4, true);
    const bodyStart = at + RECORD_HEADER_BYTES;
    if (length === 0) return isAllZero(bytes, at) ? zeroTail() : bad('corrupt', 'zero-length record');
    if (bodyStart + length > n) {
      return hasValidRecordAfter(bytes, at + 1)
        ? bad('corrupt', `record length ${length} runs past the end, but valid records follow`)
        : bad('torn', `incomplete record (length ${length}, ${n - bodyStart} bytes present)`);
    }
    const actual = crc32c(bytes, 0, bodyStart, bodyStart + length);
    if (actual !== stored) {
      const last = isAllZero(bytes, bodyStart + length);
      return bad(last ? 'torn' : 'corrupt', `crc mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
    }
    let record: WalRecord;
    try {
      record = decodeRecord(bytes[bodyStart]!, bytes.subarray(bodyStart + 1, bodyStart + length));
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return bad('corrupt', `malformed record: ${err.message}`);
    }
    records.push({ offset: at, crc: stored, record });
    at = bodyStart + length;
  }
  return { records, validBytes: at, zeroTailBytes: 0, end: { kind: 'clean' } };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function isAllZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** CRC work allowed when searching past a bad length (bounds the cost on pathological tails). */
const SEARCH_BUDGET_BYTES = 256 * 1024 * 1024;

/**
 * True when some offset at or after `from` starts a CRC-valid record of a known type that fits in
 * the bytes: then a bad length field is damage inside the log, not a torn final write.
 */
function hasValidRecordAfter(bytes: Uint8Array, from: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let budget = SEARCH_BUDGET_BYTES;
  for (let p = from; p + RECORD_HEADER_BYTES + 1 <= bytes.length; p++) {
    const type = bytes[p + RECORD_HEADER_BYTES]!;
    if (type < RecordType.SegmentHeader || type > RecordType.SnapshotMarker) continue;
    const length = view.getUint32(p, true);
    const bodyStart = p + RECORD_HEADER_BYTES;
    if (length === 0 || bodyStart + length > bytes.length) continue;
    if (budget <= 0) return false;
    budget -= length;
    if (crc32c(bytes, 0, bodyStart, bodyStart + length) === view.getUint32(p + 4, true)) return true;
  }
  return false;
}
