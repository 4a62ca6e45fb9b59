/**
 * A small binary encoding of {@link ConfChange} for the data of ConfChange log entries.
 *
 * Layout: version (u8 = 1), type (u8), node ID length (u8), node ID (ASCII hex),
 * context length (u32 big-endian), context bytes. Protocol's codec may replace it later.
 */
import { ConfChangeType, type ConfChange } from '@deimos/protocol';
import { RaftError } from './api.js';
import { asciiBytes, asciiString } from './util.js';

const VERSION = 1;
const NODE_ID_PATTERN = /^[0-9a-f]{1,16}$/;

/** The bytes of a ConfChange were not produced by {@link confChangeToBytes}. */
export class ConfChangeDecodeError extends RaftError {
  constructor(reason: string) { super('ERR_CONF_CHANGE_DECODE', `cannot decode conf change: ${reason}`); }
}

/** Encodes a ConfChange for the data of an EntryType.ConfChange entry. */
export function confChangeToBytes(cc: ConfChange): Uint8Array {
  if (!NODE_ID_PATTERN.test(cc.nodeId)) throw new RaftError('ERR_CONF_CHANGE_ENCODE', `bad node id '${cc.nodeId}'`);
  const id = asciiBytes(cc.nodeId);
  const out = new Uint8Array(3 + id.length + 4 + cc.context.length);
  out[0] = VERSION;
  out[1] = cc.type;
  out[2] = id.length;
  out.set(id, 3);
  const at = 3 + id.length;
  const n = cc.context.length;
  out[at] = (n >>> 24) & 0xff;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
  out.set(cc.context, at + 4);
  return out;
}

/** Decodes the data of an EntryType.ConfChange entry; throws {@link ConfChangeDecodeError}. */
export function confChangeFromBytes(bytes: Uint8Array): ConfChange {
  if (bytes.length < 7) throw new ConfChangeDecodeError('too short');
  if (bytes[0] !== VERSION) throw new ConfChangeDecodeError(`unknown version ${bytes[0]}`);
  const type = bytes[1]!;
  if (ConfChangeType[type] === undefined) throw new ConfChangeDecodeError(`unknown type ${type}`);
  const idLength = bytes[2]!;
  const at = 3 + idLength;
  if (bytes.length < at + 4) throw new ConfChangeDecodeError('truncated node id');
  const nodeId = asciiString(bytes.subarray(3, at));
  if (!NODE_ID_PATTERN.test(nodeId)) throw new ConfChangeDecodeError(`bad node id '${nodeId}'`);
  const n = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
  if (bytes.length !== at + 4 + n) throw new ConfChangeDecodeError('context length mismatch');
  return { type: type as ConfChangeType, nodeId, context: bytes.slice(at + 4) };
}
