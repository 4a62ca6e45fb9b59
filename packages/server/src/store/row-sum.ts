/**
 * A 32-bit sum kept beside every row of the state database, so that a changed byte inside a value,
 * a path or an index (which SQLite's own checks never see: they check page and record structure,
 * not content) is found when the row is read instead of being served.
 *
 * FNV-1a over the fields as read back from SQLite (strings by UTF-16 code unit, numbers by their two
 * 32-bit halves, each field tagged), not a CRC of bytes: it needs no encoding of the strings into a
 * buffer, and it detects random damage, which is all it is for (not tampering). A byte changed in the
 * file changes the string or number SQLite decodes, and with it the sum, but with a chance of 2^-32.
 */

const OFFSET = 0x811c9dc5;
const PRIME = 0x01000193;
const TWO_32 = 4294967296;

function mixWord(h: number, w: number): number {
  return Math.imul(h ^ w, PRIME);
}

function mixString(h: number, s: string): number {
  h = mixWord(h, s.length);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), PRIME);
  return h;
}

/** Integers up to 2^53 exactly (`>>> 0` takes the low 32 bits of the integer). */
function mixNumber(h: number, n: number): number {
  return mixWord(mixWord(h, n >>> 0), Math.floor(n / TWO_32) >>> 0);
}

/** Null, a string or a number, tagged so that no value of one kind sums as another. */
function mixField(h: number, v: unknown): number {
  if (v === null || v === undefined) return mixWord(h, 0);
  if (typeof v === 'string') return mixString(mixWord(h, 1), v);
  if (typeof v === 'number') return mixNumber(mixWord(h, 2), v);
  // A field SQLite decoded as a blob or a bigint where this code writes text or numbers: damage.
  return mixWord(h, 3);
}

/** The sum of a `nodes` row (`dir` as stored: 0 or 1). */
export function nodeRowSum(
  path: unknown, dir: unknown, value: unknown, createdIndex: unknown, modifiedIndex: unknown, expireAtMs: unknown,
): number {
  let h = mixField(OFFSET, path);
  h = mixField(h, dir);
  h = mixField(h, value);
  h = mixField(h, createdIndex);
  h = mixField(h, modifiedIndex);
  h = mixField(h, expireAtMs);
  return h | 0;
}

/** The sum of an `events` row. */
export function eventRowSum(index: unknown, event: unknown): number {
  return mixField(mixField(OFFSET ^ 0x5a5a, index), event) | 0;
}
