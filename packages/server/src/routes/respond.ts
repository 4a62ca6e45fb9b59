/** Small response writers shared by the non-keys routes. */
import type { ServerResponse } from 'node:http';

/** Writes a body with an exact content type and length. */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(buf.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

/** JSON body (etcd's members/stats style: no trailing newline unless given). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendBody(res, status, 'application/json', JSON.stringify(value), headers);
}

/** 404 as Go's mux writes it. */
export function sendNotFound(res: ServerResponse): void {
  sendBody(res, 404, 'text/plain; charset=utf-8', '404 page not found\n', { 'X-Content-Type-Options': 'nosniff' });
}

/** 405 with the allowed methods. */
export function sendMethodNotAllowed(res: ServerResponse, allow: string): void {
  sendBody(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { Allow: allow });
}
