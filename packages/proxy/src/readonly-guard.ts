/**
 * The read-only mode's rule: only GET and HEAD pass (watches are GETs, so they pass too); anything
 * else, CORS preflights included, is refused with 501 and a JSON body (the original Deimos answered
 * with an empty body).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJsonError } from './proxy-errors.js';

/** True when a read-only proxy must refuse `method`. */
export function readonlyRefuses(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** Answers a refused request: 501 Not Implemented, `{"message": ...}`, `Allow: GET, HEAD`. */
export function refuseReadonly(req: IncomingMessage, res: ServerResponse): void {
  req.resume(); // drain the body so the connection can be reused
  sendJsonError(res, 501, { message: `deimos-proxy is read-only: ${req.method} is not allowed (only GET and HEAD)` }, { Allow: 'GET, HEAD' });
}
