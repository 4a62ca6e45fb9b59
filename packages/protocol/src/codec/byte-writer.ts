import type { NodeId } from '../raft-types.js';
import { CodecError } from './codec-error.js';
import { nodeIdHigh, nodeIdLow } from './node-id-bits.js';
import { NATIVE_UTF8_MIN, utf8Length, writeUtf8 } from './utf8.js';

const MIN_CAPACITY_BYTES = 64;
/** Longer strings are counted exactly before writing rather than given 3 bytes a unit of room. */
const MAX_RESERVED_CHARS = 64 * 1024;

/** Bytes the varint of `value` takes. */
function varintBytes(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}
const TWO_POW_32 = 0x1_0000_0000;

/**
 * A growable output buffer for the binary codec: bytes, LEB128 varints for non-negative safe
 * integers, NodeIds as 8 big-endian bytes, and length-prefixed byte arrays and UTF-8 strings.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  /** `initialCapacityBytes` is a hint; size it to the expected output to avoid regrowth. */
  constructor(initialCapacityBytes = 256) {
    this.buf = new Uint8Array(Math.max(MIN_CAPACITY_BYTES, initialCapacityBytes));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Writes one byte (0-255). */
  writeUint8(value: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = value;
  }

  /** Writes a boolean as one byte, 0 or 1. */
  writeBool(value: boolean): void {
    this.writeUint8(value ? 1 : 0);
  }

  /** Writes a non-negative safe integer (0 to 2^53-1) as an unsigned LEB128 varint (1-8 bytes). */
  writeVarint(value: number): void {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    const buf = this.buf;
    if (value >>> 0 === value) {
      // Fast path: fits 32 bits, so shifts are exact.
      while (value >= 0x80) {
        buf[this.pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      buf[this.pos++] = value;
      return;
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new CodecError(`cannot encode ${value} as a varint: want an integer in [0, 2^53-1]`);
    }
    while (value >= 0x80) {
      // `& 0x7f` is exact above 2^32 too: ToInt32 reduces modulo 2^32, keeping the low bits.
      buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    buf[this.pos++] = value;
  }

  /** Writes an unsigned 32-bit integer as 4 big-endian bytes. */
  writeUint32(value: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = value >>> 24;
    buf[p + 1] = value >>> 16;
    buf[p + 2] = value >>> 8;
    buf[p + 3] = value;
    this.pos = p + 4;
  }

  /** Writes a NodeId as 8 big-endian bytes, so byte order matches numeric order. */
  writeNodeId(id: NodeId): void {
    if (id === '0') {
      this.writeUint32(0);
      this.writeUint32(0);
      return;
    }
    const high = nodeIdHigh(id);
    this.writeUint32(high);
    this.writeUint32(nodeIdLow(id));
  }

  /** Writes a byte array prefixed with its length as a varint. */
  writeBytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.writeVarint(n);
    if (n === 0) return;
    if (this.pos + n > this.buf.length) this.grow(n);
    if (n <= 16) {
      // Tiny arrays: a loop beats the call overhead of set().
      const buf = this.buf;
      for (let i = 0; i < n; i++) buf[this.pos + i] = bytes[i]!;
    } else {
      this.buf.set(bytes, this.pos);
    }
    this.pos += n;
  }

  /** Writes a string as length-prefixed UTF-8 (lone surrogates become U+FFFD). */
  writeString(str: string): void {
    const chars = str.length;
    if (chars >= NATIVE_UTF8_MIN && chars <= MAX_RESERVED_CHARS) {
      // Counting the bytes first would cost as much as the native encoding itself: reserve the
      // most it can take (3 bytes a UTF-16 unit), encode after room for that length's varint, then
      // write the real length and close the gap if its varint is shorter (rare: e.g. 43 ASCII
      // characters, whose 129-byte maximum needs a 2-byte varint and whose 43 bytes need one).
      const most = chars * 3;
      const room = varintBytes(most);
      if (this.pos + room + most + 8 > this.buf.length) this.grow(room + most + 8);
      const start = this.pos + room;
      const written = writeUtf8(str, this.buf, start) - start;
      this.writeVarint(written);
      if (this.pos !== start) this.buf.copyWithin(this.pos, start, start + written);
      this.pos += written;
      return;
    }
    const n = utf8Length(str);
    this.writeVarint(n);
    if (this.pos + n > this.buf.length) this.grow(n);
    this.pos = writeUtf8(str, this.buf, this.pos);
  }

  /**
   * Empties the writer to be filled again, keeping its buffer (a scratch writer reused for many
   * short-lived encodings). What {@link finish} returned before is overwritten by the next writes.
   */
  reset(): void {
    this.pos = 0;
  }

  /** Bytes the internal buffer holds (what a reused writer keeps allocated). */
  get capacity(): number {
    return this.buf.length;
  }

  /**
   * Returns the bytes written, as a view of the internal buffer (no copy). The writer must not be
   * used afterwards, or it would overwrite what the caller holds.
   */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private grow(needBytes: number): void {
    let capacity = this.buf.length * 2;
    while (capacity < this.pos + needBytes) capacity *= 2;
    if (capacity > TWO_POW_32) throw new CodecError(`encoding exceeds ${TWO_POW_32} bytes`);
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}
