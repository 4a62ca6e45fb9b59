/**
 * CORS for the client port, as etcd 3.4 does it: with `*` in the allow-list every response gets
 * `Access-Control-Allow-Origin: *`; otherwise an allowed `Origin` is echoed back. `OPTIONS` on any
 * path is answered 200 with an empty body, whether or not CORS headers were added.
 *
 * The headers are not set with `res.setHeader` (that sends every later header of the response
 * through Node's slow per-header path) but remembered per response and written by
 * {@link writeHeadWithCors}, which every writer of the client API uses.
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

/** Header pairs (name, value, ...) to send first on a response. */
type HeaderPairs = readonly (string | number)[];

const corsByResponse = new WeakMap<ServerResponse, HeaderPairs>();
/** The pairs for `*`, the common case, built once. */
const ANY_ORIGIN: HeaderPairs = Object.freeze(Object.entries(corsHeaders(['*'], undefined)!).flat());

/**
 * Marks `res` for the CORS headers and answers `OPTIONS` (200, empty body). Returns true when the
 * request has been answered and routing must stop.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowList: readonly string[]): boolean {
  const headers = corsHeaders(allowList, req.headers.origin);
  if (headers !== undefined) {
    corsByResponse.set(res, headers['Access-Control-Allow-Origin'] === '*' ? ANY_ORIGIN : Object.entries(headers).flat());
  }
  if (req.method !== 'OPTIONS') return false;
  writeHeadWithCors(res, 200, ['Content-Length', 0]);
  res.end();
  return true;
}

/**
 * `res.writeHead(status, pairs)` with the response's CORS headers first. A flat array of pairs is
 * the cheapest form Node takes (no header map is built when nothing was set before).
 */
export function writeHeadWithCors(res: ServerResponse, status: number, pairs: (string | number)[]): void {
  const cors = corsByResponse.get(res);
  res.writeHead(status, cors === undefined ? pairs : [...cors, ...pairs]);
}
