/**
 * Go `net/http`-style plain-text answers the keys API shares with the other endpoints:
 * 405 with `Allow`, the mux's 404, and `http.Error` itself.
 */
import type { ServerResponse } from 'node:http';
import { writeHeadWithCors } from './cors.js';

/**
 * Writes a plain-text error exactly like Go's `http.Error` (text plus a newline, `nosniff`).
 */
export function writePlainError(res: ServerResponse, status: number, text: string, extra: readonly (string | number)[] = []): void {
  const body = text + '\n';
  writeHeadWithCors(res, status, [
    'Content-Type', 'text/plain; charset=utf-8',
    'X-Content-Type-Options', 'nosniff',
    'Content-Length', Buffer.byteLength(body),
    ...extra,
  ]);
  res.end(body);
}

/**
 * Answers 405 `Method Not Allowed` with `Allow: <allowed joined by ",">` unless `method` is one of
 * `allowed`. Returns true when the method may proceed (etcd's `allowMethod`).
 */
export function allowMethod(res: ServerResponse, method: string | undefined, allowed: readonly string[]): boolean {
  if (method !== undefined && allowed.includes(method)) return true;
  res.setHeader('Allow', allowed.join(','));
  writePlainError(res, 405, 'Method Not Allowed');
  return false;
}

/** Answers Go's `404 page not found` for a path no route serves. */
export function writeNotFound(res: ServerResponse): void {
  writePlainError(res, 404, '404 page not found');
}
