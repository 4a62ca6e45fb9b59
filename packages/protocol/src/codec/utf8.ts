import { CodecError } from './codec-error.js';

/** Strings at most this long are decoded with one `String.fromCharCode` call per chunk. */
const CHUNK_CHARS = 4096;

/**
 * From this many characters (or bytes, decoding) the runtime's TextEncoder/TextDecoder do the work:
 * measured on Node 20, the loops below cost ~8 ns a character and the native codecs ~130 ns a call
 * plus well under 1 ns a character, so the loops win only on short strings (8 characters: 88 ns
 * against 128 ns; 24: 225 against 153; 256: 1974 against 127).
 */
export const NATIVE_UTF8_MIN = 24;
let encoder: TextEncoder | undefined;
let decoder: TextDecoder | undefined;

/**
 * The number of bytes `str` takes in UTF-8. Lone surrogates count as U+FFFD (3 bytes), the same
 * replacement {@link writeUtf8} makes, so the two always agree.
 */
export function utf8Length(str: string): number {
  let bytes = 0;
  const n = str.length;
  for (let i = 0; i < n; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(str.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Writes `str` as UTF-8 into `out` at `offset` and returns the offset after it. The caller reserves
 * {@link utf8Length} bytes first. Lone surrogates become U+FFFD, as the WHATWG TextEncoder does.
 */
export function writeUtf8(str: string, out: Uint8Array, offset: number): number {
  const n = str.length;
  // Same bytes: the WHATWG encoder also writes a lone surrogate as U+FFFD.
  if (n >= NATIVE_UTF8_MIN) return offset + (encoder ??= new TextEncoder()).encodeInto(str, out.subarray(offset)).written;
  let p = offset;
  for (let i = 0; i < n; i++) {
    let c = str.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? str.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && isLowSurrogate(next)) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[p++] = 0xf0 | (c >> 18);
        out[p++] = 0x80 | ((c >> 12) & 0x3f);
        out[p++] = 0x80 | ((c >> 6) & 0x3f);
        out[p++] = 0x80 | (c & 0x3f);
      } else {
        out[p++] = 0xef; // U+FFFD
        out[p++] = 0xbf;
        out[p++] = 0xbd;
      }
    } else {
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/** Encodes a string as a fresh UTF-8 byte array (lone surrogates become U+FFFD). */
export function encodeUtf8(str: string): Uint8Array {
  const out = new Uint8Array(utf8Length(str));
  writeUtf8(str, out, 0);
  return out;
}

/**
 * Decodes `bytes[start, end)` as UTF-8. Strict: overlong forms, surrogate code points, values above
 * U+10FFFF and truncated sequences throw a {@link CodecError} rather than being replaced, because
 * a codec that silently rewrites data would hide corruption.
 */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start >= NATIVE_UTF8_MIN) {
    // The WHATWG decoder in fatal mode refuses exactly what the loop below refuses (overlong forms,
    // surrogates, code points past U+10FFFF, truncated sequences); ignoreBOM keeps a leading U+FEFF
    // as data. On a refusal the loop runs to name the offending byte.
    decoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    try {
      return decoder.decode(bytes.subarray(start, end));
    } catch {
      return decodeUtf8Loop(bytes, start, end);
    }
  }
  return decodeUtf8Loop(bytes, start, end);
}

function decodeUtf8Loop(bytes: Uint8Array, start: number, end: number): string {
  let result = '';
  const units: number[] = [];
  let p = start;
  while (p < end) {
    const b0 = bytes[p]!;
    if (b0 < 0x80) {
      units.push(b0);
      p += 1;
    } else {
      p = decodeMultiByte(bytes, p, end, units);
    }
    if (units.length >= CHUNK_CHARS) {
      result += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return units.length > 0 ? result + String.fromCharCode.apply(null, units) : result;
}

/** Decodes one 2-4 byte sequence at `p`, pushes its UTF-16 units and returns the next offset. */
function decodeMultiByte(bytes: Uint8Array, p: number, end: number, units: number[]): number {
  const b0 = bytes[p]!;
  let need: number;
  let cp: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1; cp = b0 & 0x1f; min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2; cp = b0 & 0x0f; min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3; cp = b0 & 0x07; min = 0x10000;
  } else {
    throw new CodecError(`invalid UTF-8 lead byte 0x${b0.toString(16)} at offset ${p}`);
  }
  if (p + need >= end) throw new CodecError(`truncated UTF-8 sequence at offset ${p}`);
  for (let k = 1; k <= need; k++) {
    const b = bytes[p + k]!;
    if ((b & 0xc0) !== 0x80) throw new CodecError(`invalid UTF-8 continuation byte at offset ${p + k}`);
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    throw new CodecError(`invalid UTF-8 code point U+${cp.toString(16)} at offset ${p}`);
  }
  if (cp >= 0x10000) {
    cp -= 0x10000;
    units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
  } else {
    units.push(cp);
  }
  return p + need + 1;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
