/**
 * The parts of Go's `net/url` and `net/http` request handling that etcd's keys API exposes on the
 * wire: percent-decoding with Go's error text, `ParseQuery` (Go >= 1.17, semicolons rejected),
 * `ServeMux` path cleaning for the 301 redirect, and path escaping for its `Location` header.
 */

/** Where an escaped string came from; `+` means a space only in a query or form. */
export type EscapeMode = 'path' | 'query';

/** A malformed `%` escape, with Go's message text (`invalid URL escape "%zz"`). */
export class UrlEscapeError extends Error {
  constructor(readonly escape: string) {
    super(`invalid URL escape ${goQuote(escape)}`);
    this.name = 'UrlEscapeError';
  }
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/**
 * Percent-decodes `s` like Go's `url.PathUnescape` / `url.QueryUnescape`. The decoded bytes are read
 * as UTF-8; invalid sequences become U+FFFD. Go keeps the raw bytes: its JSON shows U+FFFD as well,
 * but two keys or values that differ only in such bytes stay apart there and are one here (the
 * README's differences say so). Throws {@link UrlEscapeError}.
 */
export function goUnescape(s: string, mode: EscapeMode): string {
  const pct = s.indexOf('%');
  const plus = mode === 'query' ? s.indexOf('+') : -1;
  if (pct === -1 && plus === -1) return s;
  if (pct === -1) return s.replaceAll('+', ' ');
  // Validate every escape first so the error names the first bad one, as Go does.
  for (let i = pct; i !== -1; i = s.indexOf('%', i + 3)) {
    if (i + 2 >= s.length || hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) {
      throw new UrlEscapeError(s.slice(i, i + 3));
    }
  }
  const source = utf8Encoder.encode(s);
  const out = new Uint8Array(source.length);
  let n = 0;
  for (let i = 0; i < source.length; i++) {
    const b = source[i]!;
    if (b === 0x25) {
      out[n++] = (hexValue(source[i + 1]!) << 4) | hexValue(source[i + 2]!);
      i += 2;
    } else if (b === 0x2b && mode === 'query') {
      out[n++] = 0x20;
    } else {
      out[n++] = b;
    }
  }
  return utf8Decoder.decode(out.subarray(0, n));
}

/** The result of {@link goParseQuery}: every value per name in order, and Go's first error if any. */
export interface ParsedQuery {
  values: Map<string, string[]>;
  /** Go's error text; Go still returns the pairs it could parse. */
  error?: string;
}

/**
 * Parses `a=1&b=2` like Go's `url.ParseQuery` (Go >= 1.17): `&` separates pairs, a pair containing
 * `;` is an error (`invalid semicolon separator in query`), bad escapes are errors, empty pairs
 * are skipped. `into` lets a caller append query values after body values, as `ParseForm` does.
 */
export function goParseQuery(query: string, into?: ParsedQuery): ParsedQuery {
  const result: ParsedQuery = into ?? { values: new Map() };
  if (query === '') return result;
  for (const pair of query.split('&')) {
    // Go overwrites an earlier escape error with the semicolon error, and keeps the first escape error.
    if (pair.includes(';')) result.error = 'invalid semicolon separator in query';
    else if (pair !== '') addPair(result, pair);
  }
  return result;
}

function addPair(result: ParsedQuery, pair: string): void {
  const eq = pair.indexOf('=');
  let key: string;
  let value: string;
  try {
    key = goUnescape(eq === -1 ? pair : pair.slice(0, eq), 'query');
    value = eq === -1 ? '' : goUnescape(pair.slice(eq + 1), 'query');
  } catch (e) {
    if (!(e instanceof UrlEscapeError)) throw e;
    result.error ??= e.message;
    return;
  }
  const list = result.values.get(key);
  if (list) list.push(value);
  else result.values.set(key, [value]);
}

/**
 * Go's `path.Clean` plus `ServeMux`'s rule of keeping a trailing slash: collapses `//`, resolves
 * `.` and `..` (never above the root). `p` is a decoded absolute path.
 */
export function goCleanPath(p: string): string {
  if (p === '') return '/';
  if (!p.includes('//') && !p.includes('/.') && p.charCodeAt(0) === 0x2f) return p; // fast path
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let cleaned = '/' + parts.join('/');
  if (p.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

const HEX = '0123456789ABCDEF';

function pathByteIsSafe(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
    // - _ . ~ and the reserved characters Go leaves alone in a path: $ & + , / : ; = @
    b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e || b === 0x24 || b === 0x26 || b === 0x2b ||
    b === 0x2c || b === 0x2f || b === 0x3a || b === 0x3b || b === 0x3d || b === 0x40
  );
}

/** Escapes a decoded path like Go's `url.URL.EscapedPath` (upper-case hex; `?` and non-ASCII escaped). */
export function goEscapePath(p: string): string {
  let out = '';
  for (const b of utf8Encoder.encode(p)) {
    out += pathByteIsSafe(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

const SHORT_ESCAPES: Record<number, string> = {
  7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r',
};

/** Go's `strconv.Quote` for the short strings that appear in error causes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c < 0x20 && SHORT_ESCAPES[c] !== undefined) out += SHORT_ESCAPES[c];
    else if (c < 0x20 || c === 0x7f) out += '\\x' + HEX[c >> 4]!.toLowerCase() + HEX[c & 15]!.toLowerCase();
    else out += ch;
  }
  return out + '"';
}
