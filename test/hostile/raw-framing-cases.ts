/**
 * Raw-socket framing cases: bytes no well-behaved client sends. Each must get well-formed HTTP
 * responses or a closed connection within the deadline, never a hang and never a dead member. A
 * case that leaves a request unfinished half-closes its side, so the server has nothing to wait for.
 */

/** What a case accepts as the answer to its first request. */
export type FramingExpectation =
  /** Any well-formed answer below 500, or a close. */
  | 'any'
  /** A 4xx answer or a close: the framing is broken, and acting on the request could be smuggling. */
  | 'reject'
  /** Well-formed answers to `count` requests, all below 400 (the input is valid HTTP). */
  | 'serve';

/** One raw case. */
export interface RawFramingCase {
  name: string;
  /** Written in order, as latin1 text (every char one byte). */
  chunks: readonly string[];
  /** End our side after writing (the server sees EOF). */
  halfClose?: boolean;
  expect: FramingExpectation;
  /** Number of answers to wait for with `serve` (default 1). */
  count?: number;
}

const H = 'Host: hostile\r\n';
const put = (headers: string, body: string) => `PUT /v2/keys/hostile/raw HTTP/1.1\r\n${H}Content-Type: application/x-www-form-urlencoded\r\n${headers}\r\n${body}`;

/** The framing cases, each run against every member once per round and drawn into batches. */
export const RAW_FRAMING_CASES: readonly RawFramingCase[] = [
  { name: 'bare LF line endings', chunks: [`GET /v2/keys/ HTTP/1.1\nHost: hostile\nConnection: close\n\n`], expect: 'any' },
  { name: 'bare LF ending the headers only', chunks: [`GET /version HTTP/1.1\r\n${H}Connection: close\r\n\n`], expect: 'any' },
  { name: 'HTTP/1.1 without Host', chunks: ['GET /v2/keys/ HTTP/1.1\r\nConnection: close\r\n\r\n'], expect: 'reject' },
  { name: 'HTTP/1.0 without Host', chunks: ['GET /version HTTP/1.0\r\n\r\n'], expect: 'serve' },
  { name: 'duplicated equal Content-Length', chunks: [put('Content-Length: 7\r\nContent-Length: 7\r\nConnection: close\r\n', 'value=1')], expect: 'any' },
  { name: 'duplicated different Content-Length', chunks: [put('Content-Length: 7\r\nContent-Length: 3\r\nConnection: close\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length list', chunks: [put('Content-Length: 7, 3\r\nConnection: close\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length and Transfer-Encoding: chunked', chunks: [put('Content-Length: 7\r\nTransfer-Encoding: chunked\r\n', '7\r\nvalue=1\r\n0\r\n\r\n')], halfClose: true, expect: 'reject' },
  { name: 'negative Content-Length', chunks: [put('Content-Length: -1\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length with a plus sign', chunks: [put('Content-Length: +7\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length 2^53+1', chunks: [put('Content-Length: 9007199254740993\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length 2^64', chunks: [put('Content-Length: 18446744073709551616\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length of hex digits', chunks: [put('Content-Length: 0x7\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'Content-Length past the body, then EOF', chunks: [put('Content-Length: 100\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  { name: 'chunked with a non-hex size', chunks: [put('Transfer-Encoding: chunked\r\n', 'zz\r\nvalue=1\r\n0\r\n\r\n')], halfClose: true, expect: 'reject' },
  { name: 'chunked with a negative size', chunks: [put('Transfer-Encoding: chunked\r\n', '-7\r\nvalue=1\r\n0\r\n\r\n')], halfClose: true, expect: 'reject' },
  { name: 'chunked with a huge chunk size', chunks: [put('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffffff\r\nvalue=1\r\n')], halfClose: true, expect: 'reject' },
  { name: 'chunked with a 2^53 chunk size', chunks: [put('Transfer-Encoding: chunked\r\n', '20000000000001\r\nvalue=1\r\n')], halfClose: true, expect: 'reject' },
  { name: 'chunked with a chunk longer than its size', chunks: [put('Transfer-Encoding: chunked\r\n', '3\r\nvalue=1\r\n0\r\n\r\n')], halfClose: true, expect: 'reject' },
  { name: 'chunked without the last chunk, then EOF', chunks: [put('Transfer-Encoding: chunked\r\n', '7\r\nvalue=1\r\n')], halfClose: true, expect: 'reject' },
  { name: 'chunked with trailers', chunks: [put('Transfer-Encoding: chunked\r\nConnection: close\r\n', '7\r\nvalue=1\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n')], expect: 'serve' },
  { name: 'chunked with extensions', chunks: [put('Transfer-Encoding: chunked\r\nConnection: close\r\n', '7;ext=1;x="y"\r\nvalue=1\r\n0\r\n\r\n')], expect: 'serve' },
  { name: 'chunked with a one-byte chunk', chunks: [put('Transfer-Encoding: chunked\r\nConnection: close\r\n', `1\r\nv\r\n6\r\nalue=1\r\n0\r\n\r\n`)], expect: 'serve' },
  { name: 'Transfer-Encoding: chunked, identity', chunks: [put('Transfer-Encoding: chunked, identity\r\n', '7\r\nvalue=1\r\n0\r\n\r\n')], halfClose: true, expect: 'reject' },
  { name: 'Transfer-Encoding: gzip', chunks: [put('Transfer-Encoding: gzip\r\n', 'value=1')], halfClose: true, expect: 'reject' },
  // Heads are bounded at Go's 1 MiB + 4 KiB, as etcd's: under it served, over it refused.
  { name: 'a 70 KB header line', chunks: [`GET /version HTTP/1.1\r\n${H}X-Huge: ${'h'.repeat(70_000)}\r\nConnection: close\r\n\r\n`], expect: 'serve' },
  { name: 'a 1.1 MB header line', chunks: [`GET /version HTTP/1.1\r\n${H}X-Huge: ${'h'.repeat(1_100_000)}\r\n\r\n`], halfClose: true, expect: 'reject' },
  { name: 'a 70 KB request line', chunks: [`GET /v2/keys/${'k'.repeat(70_000)} HTTP/1.1\r\n${H}\r\n`], halfClose: true, expect: 'reject' },
  { name: '3000 headers', chunks: [`GET /version HTTP/1.1\r\n${H}${Array.from({ length: 3_000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}Connection: close\r\n\r\n`], expect: 'any' },
  { name: '20000 headers', chunks: [`GET /version HTTP/1.1\r\n${H}${'X-H: 1\r\n'.repeat(20_000)}Connection: close\r\n\r\n`], expect: 'serve' },
  // 1.6 MB of tiny headers: node:http keeps only the first 2000 (nothing held past them) and, unlike
  // Go, does not count the rest against the bound; whatever the answer, nothing may crash or hang.
  { name: '200000 headers', chunks: [`GET /version HTTP/1.1\r\n${H}${'X-H: 1\r\n'.repeat(200_000)}Connection: close\r\n\r\n`], expect: 'any' },
  { name: 'pipelined junk after a valid request', chunks: [`GET /version HTTP/1.1\r\n${H}\r\nJUNK JUNK JUNK\r\n\r\n`], halfClose: true, expect: 'serve' },
  { name: 'pipelined junk after a valid keys request', chunks: [`GET /v2/keys/ HTTP/1.1\r\n${H}\r\n\u0000\u0001\u0002 junk\r\n\r\n`], halfClose: true, expect: 'serve' },
  { name: 'pipelined keys then members request', chunks: [`GET /v2/keys/ HTTP/1.1\r\n${H}\r\nGET /v2/members HTTP/1.1\r\n${H}Connection: close\r\n\r\n`], expect: 'serve', count: 2 },
  { name: 'pipelined keys then stats then version', chunks: [`GET /v2/keys/?quorum=true HTTP/1.1\r\n${H}\r\nGET /v2/stats/self HTTP/1.1\r\n${H}\r\nGET /version HTTP/1.1\r\n${H}Connection: close\r\n\r\n`], expect: 'serve', count: 3 },
  { name: 'NUL in the request line', chunks: [`GET /v2/keys/a\u0000b HTTP/1.1\r\n${H}\r\n`], halfClose: true, expect: 'reject' },
  { name: 'NUL in a header value', chunks: [`GET /version HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`], halfClose: true, expect: 'reject' },
  { name: 'NUL in a header name', chunks: [`GET /version HTTP/1.1\r\n${H}X-\u0000: a\r\n\r\n`], halfClose: true, expect: 'reject' },
  { name: 'NUL bytes in a form body', chunks: [put('Content-Length: 9\r\nConnection: close\r\n', 'value=\u0000\u0000\u0000')], expect: 'serve' },
  { name: 'HTTP/0.9 request', chunks: ['GET /\r\n'], halfClose: true, expect: 'reject' },
  { name: 'HTTP/2 preface', chunks: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], halfClose: true, expect: 'reject' },
  { name: 'unknown HTTP version', chunks: [`GET /version HTTP/1.7\r\n${H}\r\n`], halfClose: true, expect: 'any' },
  { name: 'HTTP/2.0 on the request line', chunks: [`GET /version HTTP/2.0\r\n${H}\r\n`], halfClose: true, expect: 'reject' },
  { name: 'obsolete line folding', chunks: [`GET /version HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`], halfClose: true, expect: 'reject' },
  { name: 'space before the colon', chunks: [`GET /version HTTP/1.1\r\nHost : hostile\r\n\r\n`], halfClose: true, expect: 'reject' },
  { name: 'header without a colon', chunks: [`GET /version HTTP/1.1\r\n${H}NoColon\r\n\r\n`], halfClose: true, expect: 'reject' },
  { name: 'two Host headers', chunks: [`GET /version HTTP/1.1\r\n${H}${H}\r\n`], halfClose: true, expect: 'reject' },
  { name: 'absolute-form target', chunks: [`GET http://hostile/v2/keys/ HTTP/1.1\r\n${H}Connection: close\r\n\r\n`], expect: 'any' },
  { name: 'Expect: 100-continue with its body', chunks: [put('Content-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n', 'value=1')], expect: 'serve' },
  { name: 'Expect: 100-continue, then EOF', chunks: [put('Content-Length: 7\r\nExpect: 100-continue\r\n', '')], halfClose: true, expect: 'any' },
  { name: 'Upgrade: websocket on the keys API', chunks: [`GET /v2/keys/ HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`], halfClose: true, expect: 'any' },
  { name: 'CONNECT', chunks: [`CONNECT 127.0.0.1:1 HTTP/1.1\r\n${H}\r\n`], halfClose: true, expect: 'any' },
  { name: 'half-close mid request line', chunks: ['GET /v2/ke'], halfClose: true, expect: 'reject' },
  { name: 'half-close mid headers', chunks: [`GET /v2/keys/ HTTP/1.1\r\n${H}X-A: `], halfClose: true, expect: 'reject' },
  { name: 'half-close mid body', chunks: [put('Content-Length: 20\r\n', 'value=')], halfClose: true, expect: 'reject' },
  { name: 'request split byte by byte', chunks: [...`GET /version HTTP/1.1\r\n${H}Connection: close\r\n\r\n`], expect: 'serve' },
  { name: 'only blank lines, then EOF', chunks: ['\r\n\r\n\r\n\r\n'], halfClose: true, expect: 'reject' },
  { name: 'nothing, then EOF', chunks: [''], halfClose: true, expect: 'reject' },
  { name: 'a TLS ClientHello on the plain port', chunks: ['\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003'], halfClose: true, expect: 'reject' },
  { name: 'a lowercase method', chunks: [`get /version HTTP/1.1\r\n${H}Connection: close\r\n\r\n`], expect: 'any' },
  { name: 'a method of 10000 letters', chunks: [`${'G'.repeat(10_000)} /version HTTP/1.1\r\n${H}\r\n`], halfClose: true, expect: 'any' },
  { name: 'a UTF-8 request target', chunks: [Buffer.from(`GET /v2/keys/é💥 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 'utf8').toString('latin1')], expect: 'any' },
];
