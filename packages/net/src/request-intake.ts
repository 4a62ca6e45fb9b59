/**
 * What the client ports of members and of deimos-proxy do to a request node:http hands them before
 * routing it. node's objects come in structurally.
 */
import { originForm } from '@deimos/protocol';

/**
 * An absolute-form target (`GET http://host:port/v2/keys/a`, what a client speaking to a proxy
 * sends) is routed by its path, as Go's server routes it. A request that asks to upgrade (these
 * ports upgrade nothing) gets an answer that closes its connection: node:http reads nothing more
 * after it, so a request pipelined behind it would otherwise wait unanswered until the idle close.
 */
export function takeRequest(req: { url?: string; headers: { upgrade?: string } }, res: { shouldKeepAlive: boolean }): void {
  if (req.url !== undefined && req.url.charCodeAt(0) !== 0x2f) req.url = originForm(req.url);
  if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false;
}
