import type { ConfState, NodeId } from '../raft-types.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { decodeRecord, encodeRecord, RecordKind } from './record-header.js';

const NODE_ID_BYTES = 8;

/** Writes a configuration (no header): count-prefixed voters, then count-prefixed learners. */
export function writeConfState(w: ByteWriter, cs: ConfState): void {
  writeNodeIds(w, cs.voters);
  writeNodeIds(w, cs.learners);
}

/** Reads a configuration written by {@link writeConfState}. */
export function readConfState(r: ByteReader): ConfState {
  const voters = readNodeIds(r);
  const learners = readNodeIds(r);
  return { voters, learners };
}

/** An upper bound on the encoded size of a configuration. */
export function confStateSizeHint(cs: ConfState): number {
  return 10 + NODE_ID_BYTES * (cs.voters.length + cs.learners.length);
}

/** Encodes a configuration as a versioned top-level record. */
export function encodeConfState(cs: ConfState): Uint8Array {
  return encodeRecord(RecordKind.ConfState, cs, confStateSizeHint(cs), writeConfState);
}

/** Decodes bytes from {@link encodeConfState}; throws a CodecError on malformed input. */
export function decodeConfState(bytes: Uint8Array): ConfState {
  return decodeRecord(bytes, RecordKind.ConfState, readConfState);
}

function writeNodeIds(w: ByteWriter, ids: readonly NodeId[]): void {
  w.writeVarint(ids.length);
  for (let i = 0; i < ids.length; i++) w.writeNodeId(ids[i]!);
}

function readNodeIds(r: ByteReader): NodeId[] {
  const n = r.readLength(NODE_ID_BYTES);
  const ids: NodeId[] = [];
  for (let i = 0; i < n; i++) ids.push(r.readNodeId());
  return ids;
}
