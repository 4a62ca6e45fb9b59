/**
 * The request head a member receives from the proxy, and the response headers the client receives:
 * hop-by-hop headers (RFC 9110 §7.6.1) removed, X-Forwarded-For and the proxy hop list added, the
 * body's length restated. One version for node:http requests, one for the plain heads of the
 * proxy's own client loop.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHead } from '@deimos/protocol';
import { HOP_BY_HOP } from './hop-by-hop.js';

/** Header naming the proxies a request went through (loop detection). */
export const HOP_HEADER = 'x-deimos-proxy';

/** Headers never forwarded: hop-by-hop ones, plus ones we rewrite. */
const REWRITTEN_REQUEST = new Set([...HOP_BY_HOP, 'content-length', 'x-forwarded-for', HOP_HEADER, 'expect']);

/** A header value as one string (repeated headers joined). */
export function headerText(v: string | string[] | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
}

/** Names listed in a Connection header (also hop-by-hop). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive') (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

/**
 * The request line and headers sent upstream: the client's headers minus hop-by-hop ones, plus
 * X-Forwarded-For, the hop list and the buffered body's length. Ends with the empty line.
 */
export function requestHead(req: IncomingMessage, body: Buffer | undefined, hops: string): string {
  const raw = req.rawHeaders;
  const extra = connectionTokens(raw);
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (REWRITTEN_REQUEST.has(name) || extra?.has(name)) continue;
    if (name === 'host') hasHost = true;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (!hasHost) head += `Host: ${req.socket.localAddress ?? 'localhost'}\r\n`;
  const prior = headerText(req.headers['x-forwarded-for']);
  const client = req.socket.remoteAddress ?? 'unknown';
  head += `X-Forwarded-For: ${prior === '' ? client : `${prior}, ${client}`}\r\nX-Deimos-Proxy: ${hops}\r\n`;
  if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
  return `${head}\r\n`;
}

/** The member's response headers minus hop-by-hop ones, names as the member spelled them. */
export function responseHeaders(raw: readonly string[]): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * The upstream head of a plain request from the client loop. Its Connection header, if any, is only
 * `keep-alive` or `close` (anything else goes to node:http), so no further header names are listed
 * there; it has no hop header yet (requests that have one go to node:http for loop detection).
 */
export function plainRequestHead(head: RequestHead, bodyLength: number, client: string, localAddress: string, proxyId: string): string {
  let text = `${head.method} ${head.url} HTTP/1.1\r\n`;
  let hasHost = false;
  for (const [name, value] of head.headers) {
    if (REWRITTEN_REQUEST.has(name)) continue;
    if (name === 'host') hasHost = true;
    text += `${name}: ${value}\r\n`;
  }
  if (!hasHost) text += `Host: ${localAddress}\r\n`;
  const prior = head.headers.get('x-forwarded-for');
  text += `X-Forwarded-For: ${prior === undefined || prior === '' ? client : `${prior}, ${client}`}\r\nX-Deimos-Proxy: ${proxyId}\r\n`;
  if (head.headers.has('content-length')) text += `Content-Length: ${bodyLength}\r\n`;
  return `${text}\r\n`;
}
