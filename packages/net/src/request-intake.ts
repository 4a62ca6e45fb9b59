/**
 * What the client ports of members and of deimos-proxy do to a request node:http hands them before
 * routing it. node's objects come in structurally.
 */
import { originForm } from '@deimos/protocol';

/** Go's answer to a request whose body comes in a transfer coding other than chunked alone. */
export const UNSUPPORTED_TRANSFER_ENCODING = 'Unsupported transfer encoding';

/**
 * An absolute-form target (`GET http://host:port/v2/keys/a`, what a client speaking to a proxy
 * sends) is routed by its path, as Go's server routes it. A request that asks to upgrade (these
 * ports upgrade nothing) gets an answer that closes its connection: node:http reads nothing more
 * after it, so a request pipelined behind it would otherwise wait unanswered until the idle close.
 * A body in a transfer coding other than chunked alone (`gzip, chunked`: node:http takes it and
 * hands over the still-compressed bytes) gets Go's 501 here and the connection closes; returns true
 * then, and the request must not be served.
 */
export function takeRequest(
  req: { url?: string; headers: { upgrade?: string; 'transfer-encoding'?: string } },
  res: { shouldKeepAlive: boolean; writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown },
): boolean {
  if (req.url !== undefined && req.url.charCodeAt(0) !== 0x2f) req.url = originForm(req.url);
  if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false;
  const coding = req.headers['transfer-encoding'];
  if (coding === undefined || coding.trim().toLowerCase() === 'chunked') return false;
  res.shouldKeepAlive = false;
  res.writeHead(501, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(UNSUPPORTED_TRANSFER_ENCODING.length) });
  res.end(UNSUPPORTED_TRANSFER_ENCODING);
  return true;
}
