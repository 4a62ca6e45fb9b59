import type { NodeId } from '../raft-types.js';
import { CodecError } from './codec-error.js';

/** The hex digit value of each ASCII code, or -1; only lowercase digits are valid in a NodeId. */
const HEX_VALUE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) table[0x30 + i] = i;
  for (let i = 0; i < 6; i++) table[0x61 + i] = 10 + i;
  return table;
})();

/**
 * Parses a NodeId's hex digits `id[start, end)` (at most 8) into an unsigned 32-bit number,
 * throwing a {@link CodecError} on anything but lowercase hex.
 */
function parseHex32(id: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = id.charCodeAt(i);
    const d = c < 128 ? HEX_VALUE[c]! : -1;
    if (d < 0) throw new CodecError(`invalid NodeId ${JSON.stringify(id)}: not lowercase hex`);
    v = v * 16 + d;
  }
  return v;
}

/**
 * Checks that `id` is a canonical NodeId: 1 to 16 lowercase hex digits without leading zeros
 * ("0" alone means none). Canonical form keeps one node from having two spellings as a map key.
 */
function checkShape(id: string): void {
  const n = id.length;
  if (n === 0 || n > 16 || (n > 1 && id.charCodeAt(0) === 0x30)) {
    throw new CodecError(`invalid NodeId ${JSON.stringify(id)}: want 1-16 lowercase hex digits without leading zeros`);
  }
}

/** The high 32 bits of a NodeId (validates the whole id). */
export function nodeIdHigh(id: NodeId): number {
  checkShape(id);
  const n = id.length;
  return n > 8 ? parseHex32(id, 0, n - 8) : 0;
}

/** The low 32 bits of a NodeId (validates the low digits; call {@link nodeIdHigh} first). */
export function nodeIdLow(id: NodeId): number {
  const n = id.length;
  return parseHex32(id, n > 8 ? n - 8 : 0, n);
}

/** Formats two unsigned 32-bit halves as a canonical NodeId. */
export function nodeIdFromHalves(high: number, low: number): NodeId {
  if (high === 0) return low.toString(16);
  const lowHex = low.toString(16);
  return high.toString(16) + (lowHex.length === 8 ? lowHex : '00000000'.slice(lowHex.length) + lowHex);
}
