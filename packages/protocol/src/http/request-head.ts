/**
 * A strict parser of HTTP/1.x request heads for the lean connection loops of the member's client port
 * and of the proxy. It accepts only the plain form real clients send (one space between the parts of
 * the request line, token header names, no folding, no duplicates, no control characters, a Host
 * header in HTTP/1.1) and a target with raw non-ASCII bytes, which node:http's parser refuses and
 * Go's takes (handed on percent-encoded, as Go reads them); anything else is undefined, and the caller leaves that request to
 * node:http, which knows every subtlety and answers errors. Plain string code, so that server and proxy share it.
 */

/** The request line and headers of one request (header names lowercased). */
export interface RequestHead {
  method: string;
  url: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  headers: Map<string, string>;
}

/** Characters allowed in a header name (RFC 9110 tchar), by code. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

function isUpperMethod(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/**
 * A request target of visible ASCII, possibly with raw bytes of 0x80 and above (a UTF-8 key that a
 * client sent unescaped: Go's server takes those, and reads them as their percent-encoded form), as
 * it is handed on: those bytes percent-encoded. Undefined for spaces and control characters.
 */
function plainTarget(s: string): string | undefined {
  if (s.length === 0) return undefined;
  let high = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return undefined;
    if (c >= 0x80) high = true;
  }
  return high ? escapeHighBytes(s) : s;
}

/** `s` (latin1 text, a char a byte) with every byte of 0x80 and above percent-encoded. */
export function escapeHighBytes(s: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    out += s.slice(from, i) + '%' + c.toString(16).toUpperCase();
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

/** Optional whitespace around a header value. */
function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Parses a request head given as latin1 text without its final blank line (`\r\n\r\n`).
 * Undefined when it is not the plain form described above.
 */
export function parseRequestHead(text: string): RequestHead | undefined {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 >= lineEnd) return undefined;
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= lineEnd) return undefined;
  const version = text.slice(sp2 + 1, lineEnd);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return undefined;
  const method = text.slice(0, sp1);
  const url = isUpperMethod(method) ? plainTarget(text.slice(sp1 + 1, sp2)) : undefined;
  if (url === undefined) return undefined;
  const headers = new Map<string, string>();
  let at = lineEnd + 2;
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon >= end) return undefined;
    for (let i = at; i < colon; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) return undefined;
    }
    let vStart = colon + 1;
    let vEnd = end;
    while (vStart < vEnd && isOws(text.charCodeAt(vStart))) vStart++;
    while (vEnd > vStart && isOws(text.charCodeAt(vEnd - 1))) vEnd--;
    for (let i = vStart; i < vEnd; i++) {
      const c = text.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    }
    const name = text.slice(at, colon).toLowerCase();
    if (headers.has(name)) return undefined;
    headers.set(name, text.slice(vStart, vEnd));
    at = end + 2;
  }
  // HTTP/1.1 requires Host; the answer to a request without one (Go's 400) is node:http's side's.
  if (version === 'HTTP/1.1' && !headers.has('host')) return undefined;
  return { method, url, version, headers };
}

/**
 * The body length of a request in the plain form (a decimal Content-Length or none), or -1 for
 * anything node:http must handle: chunked bodies, Expect: 100-continue, Upgrade.
 */
export function plainBodyLength(h: Map<string, string>): number {
  if (h.has('transfer-encoding') || h.has('expect') || h.has('upgrade')) return -1;
  const length = h.get('content-length');
  if (length === undefined) return 0;
  if (length.length === 0 || length.length > 15) return -1;
  for (let i = 0; i < length.length; i++) {
    const c = length.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return Number(length);
}

/** Whether the connection stays open after the response; undefined for Connection values left to node:http. */
export function keepsAlive(head: RequestHead): boolean | undefined {
  const connection = head.headers.get('connection')?.toLowerCase();
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') return undefined;
  return head.version === 'HTTP/1.1' ? connection !== 'close' : connection === 'keep-alive';
}

/**
 * Whether `bytes` (a head still without its `\r\n\r\n`) has a line ended by a bare LF: a loop waiting
 * for the end of the head would wait for ever, and node:http answers such a request 400 at once.
 */
export function hasBareLf(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i === 0 || bytes[i - 1] !== 0x0d) return true;
  }
  return false;
}
