/** The binary codec for raft messages, log entries and durable raft state. */
export { CodecError } from './codec-error.js';
export { ByteWriter } from './byte-writer.js';
export { ByteReader } from './byte-reader.js';
export { encodeUtf8, decodeUtf8, utf8Length } from './utf8.js';
export { CODEC_FORMAT_VERSION, RecordKind, RECORD_HEADER_BYTES } from './record-header.js';
export {
  writeEntry, readEntry, writeEntries, readEntries,
  encodeEntry, decodeEntry, encodeEntries, decodeEntries,
} from './entry-codec.js';
export { writeHardState, readHardState, encodeHardState, decodeHardState } from './hard-state-codec.js';
export { writeConfState, readConfState, encodeConfState, decodeConfState } from './conf-state-codec.js';
export { writeConfChange, readConfChange, encodeConfChange, decodeConfChange } from './conf-change-codec.js';
export {
  writeSnapshotMetadata, readSnapshotMetadata, encodeSnapshotMetadata, decodeSnapshotMetadata,
  writeSnapshot, readSnapshot, encodeSnapshot, decodeSnapshot,
} from './snapshot-codec.js';
export { writeMessage, readMessage, encodeMessage, decodeMessage } from './message-codec.js';
export { encodeMessageBatch, decodeMessageBatch } from './message-batch-codec.js';
