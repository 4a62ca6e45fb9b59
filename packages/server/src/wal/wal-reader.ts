/**
 * Recovery: reads every segment of a WAL directory in order, verifies the segment chain, repairs a
 * torn tail of the last segment, and rebuilds the durable raft state.
 */
import { closeSync, fdatasyncSync, openSync, ftruncateSync, unlinkSync } from 'node:fs';
import { readRegularFileSync } from '../util/read-regular-file.js';
import type { Entry, HardState, SnapshotMetadata } from '@deimos/protocol';
import { LogReplay, ReplayError } from './log-replay.js';
import { RecordType, WAL_FORMAT_VERSION, type SegmentHeader, type WalMetadata } from './record.js';
import { listSegments, scanSegment, type ScannedRecord, type SegmentFile } from './segment.js';
import { fsyncDir } from './sync-io.js';
import { WalCorruptionError, WalError, WalNotFoundError } from './wal-errors.js';

/** What recovery cut off or removed: a torn final write. */
export interface WalRepair {
  file: string;
  /** Offset the file was truncated to (0 when a headerless segment was removed). */
  offset: number;
  droppedBytes: number;
  reason: string;
}

/** The durable state of a WAL, as read back on open. */
export interface WalState {
  metadata: WalMetadata;
  /** The latest hard state (empty on a fresh log). */
  hardState: HardState;
  /** The latest snapshot marker; entries at or before it are covered by the state machine. */
  snapshot: SnapshotMetadata | undefined;
  /** The live log after the snapshot, conflicting tails already overwritten. */
  entries: Entry[];
  /** Set when a torn tail was truncated during recovery. */
  repaired: WalRepair | undefined;
}

/** What the writer needs to know about a segment. */
export interface SegmentInfo {
  file: SegmentFile;
  /** Highest entry index written in the segment (`firstIndex - 1` when it holds none). */
  maxIndex: number;
  entryCount: number;
}

/** Everything recovery learned: the state plus the writer's position. */
export interface RecoveredWal {
  state: WalState;
  segments: SegmentInfo[];
  /** Valid bytes of the last segment (the append position). */
  tailBytes: number;
  /** CRC of the last record of the last segment (the next segment header links to it). */
  lastCrc: number;
  /** Index the next appended entry follows. */
  lastIndex: number;
}

/**
 * Reads and verifies a WAL directory; truncates a torn tail and deletes leftover temp files.
 *
 * `check` sees the recovered state before any repair touches the files: if it throws (the log
 * disagrees with the state database, say), the torn bytes stay on disk for whoever investigates.
 */
export function readWal(dir: string, check?: (rec: RecoveredWal) => void): RecoveredWal {
  const { segments, tempFiles } = listSegments(dir);
  for (const tmp of tempFiles) unlinkSync(tmp);
  if (segments.length === 0) throw new WalNotFoundError(dir);
  checkSequence(segments);

  const replay = new LogReplay();
  const infos: SegmentInfo[] = [];
  let metadata: WalMetadata | undefined;
  let repaired: WalRepair | undefined;
  /** The repair of `repaired`, run only once `check` accepted the state. */
  let repair: (() => void) | undefined;
  let prevCrc: number | undefined;
  let tailBytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const isLast = i === segments.length - 1;
    const bytes = readSegment(seg.path);
    const scan = scanSegment(bytes);
    if (scan.end.kind === 'corrupt') throw new WalCorruptionError(seg.path, scan.end.offset, scan.end.reason);
    if (scan.zeroTailBytes > 0 && !isLast) {
      // A segment is cut to its last record before the next one is created (see Wal.cut).
      throw new WalCorruptionError(seg.path, scan.validBytes, 'zero-filled tail in a segment that is not the last');
    }
    if (scan.end.kind === 'torn') {
      if (!isLast) throw new WalCorruptionError(seg.path, scan.end.offset, `${scan.end.reason} in a segment that is not the last`);
      repair = () => truncateFile(seg.path, scan.validBytes);
      repaired = { file: seg.path, offset: scan.validBytes, droppedBytes: bytes.length - scan.validBytes, reason: scan.end.reason };
    }
    if (scan.records.length === 0 && isLast && i > 0) {
      // A segment whose header never became durable: drop it and append to the previous one.
      repair = () => {
        unlinkSync(seg.path);
        fsyncDir(dir);
      };
      repaired = { file: seg.path, offset: 0, droppedBytes: bytes.length, reason: 'segment without a header removed' };
      segments.pop();
      break;
    }
    const segMeta = checkPrologue(seg, scan.records, i === 0 ? undefined : prevCrc);
    if (metadata && (metadata.nodeId !== segMeta.nodeId || metadata.clusterId !== segMeta.clusterId)) {
      throw new WalCorruptionError(seg.path, scan.records[1]!.offset, 'metadata differs from the first segment (foreign segment)');
    }
    metadata ??= segMeta;
    infos.push(replaySegment(seg, scan.records, replay));
    prevCrc = scan.records.at(-1)!.crc;
    tailBytes = scan.validBytes;
  }
  let entries: Entry[];
  try {
    entries = replay.finish();
  } catch (err) {
    if (err instanceof ReplayError) throw new WalCorruptionError(segments[0]!.path, 0, err.message);
    throw err;
  }
  const rec: RecoveredWal = {
    state: { metadata: metadata!, hardState: replay.hardState, snapshot: replay.snapshot, entries, repaired },
    segments: infos,
    tailBytes,
    lastCrc: prevCrc!,
    lastIndex: entries.at(-1)?.index ?? replay.snapshot?.index ?? 0,
  };
  check?.(rec);
  repair?.();
  return rec;
}

function checkSequence(segments: SegmentFile[]): void {
  for (let i = 1; i < segments.length; i++) {
    const want = segments[0]!.seq + i;
    if (segments[i]!.seq !== want) {
      throw new WalCorruptionError(segments[i]!.path, 0, `segment sequence ${segments[i]!.seq} follows ${segments[i - 1]!.seq}: segment ${want} is missing`);
    }
  }
}

/** Verifies the header and metadata records that open every segment; returns the metadata. */
function checkPrologue(seg: SegmentFile, records: ScannedRecord[], prevCrc: number | undefined): WalMetadata {
  const [first, second] = records;
  if (first?.record.type !== RecordType.SegmentHeader) {
    throw new WalCorruptionError(seg.path, first?.offset ?? 0, 'segment does not start with a segment header');
  }
  const h: SegmentHeader = first.record.header;
  const fail = (reason: string): never => {
    throw new WalCorruptionError(seg.path, first.offset, reason);
  };
  if (h.version !== WAL_FORMAT_VERSION) fail(`unsupported wal format version ${h.version}`);
  if (h.seq !== seg.seq || h.firstIndex !== seg.firstIndex) {
    fail(`header says seq ${h.seq} first index ${h.firstIndex}; file name says seq ${seg.seq} first index ${seg.firstIndex} (misplaced segment)`);
  }
  const expectedPrev = prevCrc ?? (h.seq === 0 ? 0 : h.prevCrc);
  if (h.prevCrc !== expectedPrev) fail(`crc chain broken: header links to 0x${h.prevCrc.toString(16)}, previous segment ends with 0x${expectedPrev.toString(16)}`);
  if (second?.record.type !== RecordType.Metadata) {
    throw new WalCorruptionError(seg.path, second?.offset ?? 0, 'segment header is not followed by metadata');
  }
  return second.record.metadata;
}

function replaySegment(seg: SegmentFile, records: ScannedRecord[], replay: LogReplay): SegmentInfo {
  const info: SegmentInfo = { file: seg, maxIndex: seg.firstIndex - 1, entryCount: 0 };
  for (let k = 2; k < records.length; k++) {
    const { record, offset } = records[k]!;
    try {
      switch (record.type) {
        case RecordType.Entry:
          replay.append(record.entry);
          info.maxIndex = Math.max(info.maxIndex, record.entry.index);
          info.entryCount++;
          break;
        case RecordType.HardState:
          replay.hardState = record.hardState;
          break;
        case RecordType.SnapshotMarker:
          replay.applySnapshot(record.snapshot);
          break;
        default:
          throw new WalCorruptionError(seg.path, offset, `unexpected ${RecordType[record.type]} record inside a segment`);
      }
    } catch (err) {
      if (err instanceof ReplayError) throw new WalCorruptionError(seg.path, offset, err.message);
      throw err;
    }
  }
  return info;
}

function truncateFile(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A segment's bytes; a segment that cannot be read (a directory in its place, no permission) is named. */
function readSegment(path: string): Buffer {
  try {
    return readRegularFileSync(path);
  } catch (err) {
    throw new WalError('ERR_WAL_UNREADABLE', `wal segment ${path} cannot be read: ${(err as Error).message.split(', ')[0]}`);
  }
}
