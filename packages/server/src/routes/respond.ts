/** Small response writers shared by the non-keys routes. */
import type { ServerResponse } from 'node:http';
import { writePlainError } from '../http/method-guard.js';
import { writeHeadWithCors } from '../http/cors.js';

/** Writes a body with an exact content type and length. */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8');
  writeHeadWithCors(res, status, ['Content-Type', contentType, 'Content-Length', buf.length, ...Object.entries(headers).flat()]);
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

/** 204 with `headers` and nothing else (no Content-Type or Length, as Go writes a bare WriteHeader). */
export function sendNoContent(res: ServerResponse, headers: Record<string, string> = {}): void {
  writeHeadWithCors(res, 204, Object.entries(headers).flat());
  res.end();
}

/** JSON body without a trailing newline (etcd's stats and error bodies, written whole). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json', JSON.stringify(value), headers);
}

/** JSON body ending in a newline (etcd's members answers, written by Go's json.Encoder). */
export function sendJsonLine(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json', `${JSON.stringify(value)}\n`, headers);
}

/** 405 with the allowed methods (Go's text). */
export function sendMethodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  writePlainError(res, 405, 'Method Not Allowed');
}
