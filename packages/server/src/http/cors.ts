/**
 * CORS for the client port, as etcd 3.4 does it: with `*` in the allow-list every response gets
 * `Access-Control-Allow-Origin: *`; otherwise an allowed `Origin` is echoed back. `OPTIONS` on any
 * path is answered 200 with an empty body, whether or not CORS headers were added.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOW_METHODS = 'POST, GET, OPTIONS, PUT, DELETE';
const ALLOW_HEADERS = 'accept, content-type, authorization';

/** Parses a `--cors` flag value (`*` or comma-separated origins); empty entries are dropped. */
export function parseCorsList(flag: string): string[] {
  return flag.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The CORS headers for a request from `origin` (undefined when not allowed). An empty allow-list
 * allows nothing (Deimos' behaviour; configure `['*']` for etcd's default).
 */
export function corsHeaders(allowList: readonly string[], origin: string | undefined): Record<string, string> | undefined {
  let allowOrigin: string | undefined;
  if (allowList.includes('*')) allowOrigin = '*';
  else if (origin !== undefined && allowList.includes(origin)) allowOrigin = origin;
  if (allowOrigin === undefined) return undefined;
  return {
    'Access-Control-Allow-Methods': ALLOW_METHODS,
    'Access-Control-Allow-Origin': allowOrigin,
    'Access-Control-Allow-Headers': ALLOW_HEADERS,
  };
}

/**
 * Adds the CORS headers to `res` and answers `OPTIONS` (200, empty body). Returns true when the
 * request has been answered and routing must stop.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowList: readonly string[]): boolean {
  const headers = corsHeaders(allowList, req.headers.origin);
  if (headers !== undefined) {
    for (const name in headers) res.setHeader(name, headers[name]!);
  }
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
  return true;
}
