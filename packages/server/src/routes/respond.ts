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

/** JSON body (etcd's members/stats style: no trailing newline unless given). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json', JSON.stringify(value), headers);
}

/** 405 with the allowed methods (Go's text). */
export function sendMethodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  writePlainError(res, 405, 'Method Not Allowed');
}
