/**
 * The write-ahead log: segmented append-only files of CRC32C-framed records holding raft entries,
 * hard state and snapshot markers, with torn-tail repair and one fdatasync per batch.
 */
export { crc32c } from './crc32c.js';
export { loadRaftStorage, type LoadRaftStorageOptions, type RaftStorageSink } from './load-raft-storage.js';
export { RecordBatch, RecordType, WAL_FORMAT_VERSION, decodeRecord, type SegmentHeader, type WalMetadata, type WalRecord } from './record.js';
export { listSegments, parseSegmentFileName, scanSegment, segmentFileName, type SegmentFile } from './segment.js';
export { FSYNC_DELAY_ENV, SEGMENT_BYTES_ENV } from './sync-io.js';
export { DEFAULT_SEGMENT_SIZE_BYTES, Wal, type OpenedWal, type WalOpenOptions, type WalOptions, type WalSummary } from './wal.js';
export { isNoSpaceErrno, WalClosedError, WalCorruptionError, WalError, WalExistsError, WalNoSpaceError, WalNotFoundError } from './wal-errors.js';
export type { WalRepair, WalState } from './wal-reader.js';
