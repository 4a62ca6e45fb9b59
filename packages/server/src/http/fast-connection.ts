/**
 * The client port's own HTTP/1.1 connection loop, in front of node:http: the connection loop of
 * @deimos/net (connection-loop.ts there, shared with deimos-proxy) with the member's manners. A bare
 * loop over the socket that parses the head, answers with one write and goes on is about 2.5x
 * cheaper per small request than node:http here. The loop serves only what its handler takes
 * (plain keys API requests); at the first request it does not take, or that is not in the plain
 * form (see request-head.ts in @deimos/protocol: chunked bodies, Expect, Upgrade, odd headers), the
 * connection goes to node:http with the unanswered bytes put back. Requests on a connection are
 * answered in order, one at a time except runs of up to 64 pipelined reads, so that hand-over is
 * always at a request boundary with nothing pending; on node:http they also run one at a time (see
 * ordered-requests.ts in @deimos/net). Answers are utf8 text (JSON bodies may hold any character).
 */
import type { Server } from 'node:http';
import { serveLoopFirst, type ConnectionTaker, type LoopConnections, type LoopExchange, type LoopHandler, type LoopRequest } from '@deimos/net';

export type { LoopConnections, ConnectionTaker };

/** One whole request: its head and its body (undefined when empty). */
export type FastRequest = LoopRequest;

/** How a handler answers the request it took: `reply`, `stream` or `lend` (see LoopExchange in @deimos/net). */
export type FastExchange = LoopExchange;

/**
 * Takes a request (returns true, then answers it exactly once through the exchange, now or later)
 * or declines it (returns false having written nothing): node:http then serves the connection.
 */
export type FastHandler = LoopHandler;

/** Options of the loop; the bounds match node:http's settings on the client port. */
export interface FastLoopOptions {
  /** Largest body read here; larger ones go to node:http, which answers the limit error. */
  maxBodyBytes: number;
  /** Idle time before a keep-alive connection is closed (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /**
   * Time for a whole request (head and body) to arrive, as node:http's headersTimeout and the body
   * reader bound theirs: the idle timeout alone would let a client that trickles a byte now and
   * then hold the connection for ever. Answered 408, then closed.
   */
  requestArrivalMs: number;
  /** See `ConnectionLoopOptions.draining`. */
  draining?: () => boolean;
}

/** Pipelined reads answered together on one connection, at most. */
const MAX_CONCURRENT_READS = 64;

/**
 * Puts the loop with `handler` in front of node:http's connection listener of `server`
 * (`connection` for http, `secureConnection` for https, after the TLS handshake). Without that
 * listener (an unexpected Node version) node:http serves everything.
 */
export function serveConnectionsFirst(server: Server, event: 'connection' | 'secureConnection', handler: FastHandler, options: FastLoopOptions): LoopConnections {
  return serveLoopFirst(server, event, handler, {
    maxBodyBytes: options.maxBodyBytes,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    headersTimeoutMs: options.requestArrivalMs,
    requestTimeoutMs: options.requestArrivalMs,
    pipelinedReads: MAX_CONCURRENT_READS,
    encoding: 'utf8',
    ...(options.draining !== undefined ? { draining: options.draining } : {}),
  });
}
