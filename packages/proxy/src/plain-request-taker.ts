/**
 * Which requests the proxy's client loop forwards itself: plain HTTP/1.1 GET, HEAD, PUT, POST and
 * DELETE requests that are not watches, not for the proxy's own /metrics or dashboard files, not refused by read-only
 * mode and not yet through another proxy. Everything else (watches with their streaming and missing
 * timeouts, loop detection, 501 and 413 answers, chunked bodies, Expect) stays with node:http and
 * the forwarder's general path, so those rules live in one place.
 */
import type { RequestHead } from '@deimos/protocol';
import type { RequestTaker } from './client-loop.js';
import type { Forwarder } from './forwarder.js';
import type { ProxyLogger } from './logger.js';
import type { ProxyMetrics } from './metrics.js';
import { readonlyRefuses } from './readonly-guard.js';
import { HOP_HEADER, plainRequestHead } from './upstream-head.js';
import { isWatchRequest } from './watch-request.js';
import { servesDashboardLocally } from './dashboard-paths.js';

/** What the taker needs from the proxy. */
export interface PlainTakerDeps {
  forwarder: Forwarder;
  metrics: ProxyMetrics;
  logger: ProxyLogger;
  proxyId: string;
  readonly: boolean;
}

function forwardsPlainly(head: RequestHead, readonly: boolean): boolean {
  const method = head.method;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT' && method !== 'POST' && method !== 'DELETE') return false;
  if (head.version !== 'HTTP/1.1' || head.url === '/metrics' || head.headers.has(HOP_HEADER)) return false;
  if (servesDashboardLocally(head.url)) return false;
  if (readonly && readonlyRefuses(method)) return false;
  return !isWatchRequest(method, head.url);
}

/** The client loop's taker: forwards plain requests through `forwarder`, declines the rest. */
export function plainRequestTaker(deps: PlainTakerDeps): RequestTaker {
  const { forwarder, metrics, logger, proxyId } = deps;
  return (head, body, client) => {
    if (!forwardsPlainly(head, deps.readonly)) return false;
    metrics.requestReceived();
    const upstreamHead = plainRequestHead(head, body?.length ?? 0, client.remoteAddress, client.localAddress, proxyId);
    try {
      forwarder.forward({ method: head.method, head: upstreamHead, body, isWatch: false }, client);
    } catch (err) {
      const e = err as Error;
      logger.error('forwarding failed', { error: e.message, stack: e.stack ?? '' });
      client.fail(500, `internal error: ${e.message}`);
    }
    return true;
  };
}
