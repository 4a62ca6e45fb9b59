import { ConfChangeType, type ConfChange } from '../raft-types.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { checkEnumValue, decodeRecord, encodeRecord, RecordKind } from './record-header.js';

/** Writes a membership change (no header): type u8, node id, length-prefixed context. */
export function writeConfChange(w: ByteWriter, cc: ConfChange): void {
  w.writeUint8(checkEnumValue(cc.type, ConfChangeType.UpdateNode, 'conf change type'));
  w.writeNodeId(cc.nodeId);
  w.writeBytes(cc.context);
}

/** Reads a membership change written by {@link writeConfChange}. */
export function readConfChange(r: ByteReader): ConfChange {
  const type = checkEnumValue(r.readUint8(), ConfChangeType.UpdateNode, 'conf change type') as ConfChangeType;
  const nodeId = r.readNodeId();
  const context = r.readBytes();
  return { type, nodeId, context };
}

/**
 * Encodes a membership change as a versioned top-level record; this is the `data` of a
 * ConfChange log entry.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encodeRecord(RecordKind.ConfChange, cc, 16 + cc.context.length, writeConfChange);
}

/** Decodes bytes from {@link encodeConfChange}; throws a CodecError on malformed input. */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  return decodeRecord(bytes, RecordKind.ConfChange, readConfChange);
}
