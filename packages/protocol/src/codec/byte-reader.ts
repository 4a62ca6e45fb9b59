import type { NodeId } from '../raft-types.js';
import { EMPTY_BYTES } from '../raft-types.js';
import { CodecError } from './codec-error.js';
import { nodeIdFromHalves } from './node-id-bits.js';
import { decodeUtf8 } from './utf8.js';

/** A varint of 8 bytes carries 56 bits, enough for any safe integer; more is corruption. */
const MAX_VARINT_BYTES = 8;

/**
 * A cursor over encoded bytes, the counterpart of {@link ByteWriter}. Every read checks the bytes
 * remaining and throws a {@link CodecError} on truncated or malformed input, so a corrupt length
 * can never make it loop or allocate more than the input holds. Byte fields are returned as views
 * into `bytes` (see {@link ByteReader.readBytes}).
 */
export class ByteReader {
  private readonly buf: Uint8Array;
  private pos: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = bytes;
    this.pos = start;
    this.end = end;
  }

  /** The current read position. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Reads one byte. */
  readUint8(): number {
    if (this.pos >= this.end) throw this.truncated(1);
    return this.buf[this.pos++]!;
  }

  /** Reads a boolean byte, which must be 0 or 1. */
  readBool(): boolean {
    const b = this.readUint8();
    if (b > 1) throw new CodecError(`invalid boolean byte ${b} at offset ${this.pos - 1}`);
    return b === 1;
  }

  /** Reads an unsigned LEB128 varint; rejects values above 2^53-1 and non-minimal encodings. */
  readVarint(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p < this.end) {
      const b0 = buf[p]!;
      if (b0 < 0x80) {
        this.pos = p + 1;
        return b0;
      }
    }
    const start = p;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (p >= this.end) throw this.truncated(1);
      const b = buf[p++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new CodecError(`non-minimal varint at offset ${start}`);
        if (value > Number.MAX_SAFE_INTEGER) throw new CodecError(`varint at offset ${start} exceeds 2^53-1`);
        this.pos = p;
        return value;
      }
      scale *= 128;
    }
    throw new CodecError(`varint at offset ${start} is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** Reads an unsigned 32-bit big-endian integer. */
  readUint32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw this.truncated(4);
    const buf = this.buf;
    this.pos = p + 4;
    return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
  }

  /** Reads an 8-byte NodeId. */
  readNodeId(): NodeId {
    const high = this.readUint32();
    return nodeIdFromHalves(high, this.readUint32());
  }

  /**
   * Reads a length-prefixed byte array as a view into the reader's buffer, without copying: one
   * typed-array allocation per field would dominate decoding. The top-level `decode*` functions
   * read from a private copy of their input, so what they return never aliases the caller's bytes.
   */
  readBytes(): Uint8Array {
    const n = this.readLength(1);
    if (n === 0) return EMPTY_BYTES;
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Reads a length-prefixed UTF-8 string (strict: malformed UTF-8 throws). */
  readString(): string {
    const n = this.readLength(1);
    const p = this.pos;
    this.pos = p + n;
    return decodeUtf8(this.buf, p, p + n);
  }

  /**
   * Reads a varint count of items that each take at least `minItemBytes`, and checks that the
   * remaining input can hold that many, so a corrupt count fails before anything is allocated.
   */
  readLength(minItemBytes: number): number {
    const at = this.pos;
    const n = this.readVarint();
    if (n * minItemBytes > this.end - this.pos) {
      throw new CodecError(`length ${n} at offset ${at} exceeds the ${this.end - this.pos} bytes remaining`);
    }
    return n;
  }

  /** Throws unless every byte has been consumed (trailing garbage means a framing error). */
  expectEnd(): void {
    if (this.pos !== this.end) throw new CodecError(`${this.end - this.pos} unexpected trailing bytes at offset ${this.pos}`);
  }

  private truncated(needBytes: number): CodecError {
    return new CodecError(`truncated input: need ${needBytes} more bytes at offset ${this.pos}, have ${this.end - this.pos}`);
  }
}
