import type { Snapshot, SnapshotMetadata } from '../raft-types.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { confStateSizeHint, readConfState, writeConfState } from './conf-state-codec.js';
import { decodeRecord, encodeRecord, RecordKind } from './record-header.js';

/** Writes snapshot metadata (no header): index, term, configuration. */
export function writeSnapshotMetadata(w: ByteWriter, md: SnapshotMetadata): void {
  w.writeVarint(md.index);
  w.writeVarint(md.term);
  writeConfState(w, md.confState);
}

/** Reads snapshot metadata written by {@link writeSnapshotMetadata}. */
export function readSnapshotMetadata(r: ByteReader): SnapshotMetadata {
  const index = r.readVarint();
  const term = r.readVarint();
  const confState = readConfState(r);
  return { index, term, confState };
}

/** Writes a snapshot (no header): metadata, then length-prefixed data. */
export function writeSnapshot(w: ByteWriter, snap: Snapshot): void {
  writeSnapshotMetadata(w, snap.metadata);
  w.writeBytes(snap.data);
}

/** Reads a snapshot written by {@link writeSnapshot}. */
export function readSnapshot(r: ByteReader): Snapshot {
  const metadata = readSnapshotMetadata(r);
  const data = r.readBytes();
  return { metadata, data };
}

/** An upper bound on the encoded size of a snapshot. */
export function snapshotSizeHint(snap: Snapshot): number {
  return 16 + confStateSizeHint(snap.metadata.confState) + 5 + snap.data.length;
}

/** Encodes snapshot metadata as a versioned top-level record. */
export function encodeSnapshotMetadata(md: SnapshotMetadata): Uint8Array {
  return encodeRecord(RecordKind.SnapshotMetadata, md, 16 + confStateSizeHint(md.confState), writeSnapshotMetadata);
}

/** Decodes bytes from {@link encodeSnapshotMetadata}; throws a CodecError on malformed input. */
export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return decodeRecord(bytes, RecordKind.SnapshotMetadata, readSnapshotMetadata);
}

/** Encodes a snapshot (metadata + data) as a versioned top-level record. */
export function encodeSnapshot(snap: Snapshot): Uint8Array {
  return encodeRecord(RecordKind.Snapshot, snap, snapshotSizeHint(snap), writeSnapshot);
}

/** Decodes bytes from {@link encodeSnapshot}; throws a CodecError on malformed input. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  return decodeRecord(bytes, RecordKind.Snapshot, readSnapshot);
}
