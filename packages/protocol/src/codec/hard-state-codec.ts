import type { HardState } from '../raft-types.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { decodeRecord, encodeRecord, RecordKind } from './record-header.js';

const HARD_STATE_MAX_BYTES = 8 + 8 + 8;

/** Writes a hard state (no header): term, vote, commit. */
export function writeHardState(w: ByteWriter, hs: HardState): void {
  w.writeVarint(hs.term);
  w.writeNodeId(hs.vote);
  w.writeVarint(hs.commit);
}

/** Reads a hard state written by {@link writeHardState}. */
export function readHardState(r: ByteReader): HardState {
  const term = r.readVarint();
  const vote = r.readNodeId();
  const commit = r.readVarint();
  return { term, vote, commit };
}

/** Encodes a hard state as a versioned top-level record. */
export function encodeHardState(hs: HardState): Uint8Array {
  return encodeRecord(RecordKind.HardState, hs, HARD_STATE_MAX_BYTES, writeHardState);
}

/** Decodes bytes from {@link encodeHardState}; throws a CodecError on malformed input. */
export function decodeHardState(bytes: Uint8Array): HardState {
  return decodeRecord(bytes, RecordKind.HardState, readHardState);
}
