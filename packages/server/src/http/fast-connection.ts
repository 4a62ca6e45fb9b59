/**
 * The client port's own HTTP/1.1 connection loop, in front of node:http. node:http spends most of a
 * small request's cost on its per-request machinery (parser callbacks, an IncomingMessage and a
 * ServerResponse with their streams, events and header objects): a bare loop over the socket that
 * parses the head, answers with one write and goes on is about 2.5x cheaper per request here. The
 * loop serves only what its handler takes (plain keys API requests); at the first request it does
 * not take, or that is not in the plain form (see request-head.ts in @deimos/protocol: chunked
 * bodies, Expect, Upgrade, odd headers), the connection goes to node:http through its documented injection point (emitting the
 * socket to its connection listener) with the unanswered bytes put back. Requests on a connection
 * are answered in order, one at a time except runs of pipelined reads (see loop-connection.ts), so
 * that hand-over is always at a request boundary with nothing pending; on node:http they also run
 * one at a time (see ordered-requests.ts).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from '@deimos/protocol';
import { serveFirst, type LoopConnections } from '@deimos/net';
import type { BodyStream } from './body-stream.js';
import { LoopConnection } from './loop-connection.js';

export type { LoopConnections };

/** One whole request: its head and its body (undefined when empty). */
export interface FastRequest {
  head: RequestHead;
  body: Buffer | undefined;
}

/**
 * Serves a connection itself for a while (a held watch). Returns true when it took the socket; it
 * must then either end it or call `handBack(rest)` with any bytes received after the request once
 * its response is complete, and the loop goes on with the following requests.
 */
export type ConnectionTaker = (socket: Socket, head: RequestHead, handBack: (rest: Buffer | undefined) => void) => boolean;

/** How a handler answers the request it took. */
export interface FastExchange {
  /**
   * Writes the whole response (status, header pairs, body) and completes the request. Date and
   * the connection headers are added here, as node:http would.
   */
  reply(status: number, headers: readonly (string | number)[], body: string | undefined): void;
  /**
   * Writes the response head, then lets `body` write the body as the socket takes it (chunked for
   * HTTP/1.1; for HTTP/1.0 the raw body, then the connection closes). Answers after it wait.
   */
  replyStream(status: number, headers: readonly (string | number)[], body: BodyStream): void;
  /** Lends the bare socket to `taker` for this request; false (nothing done) when it declines. */
  lend(taker: ConnectionTaker): boolean;
}

/**
 * Takes a request (returns true, then answers it exactly once through the exchange, now or later)
 * or declines it (returns false having written nothing): node:http then serves the connection.
 */
export type FastHandler = (request: FastRequest, exchange: FastExchange) => boolean;

/** Options of the loop; the bounds match node:http's settings on the client port. */
export interface FastLoopOptions {
  /** Largest body read here; larger ones go to node:http, which answers the limit error. */
  maxBodyBytes: number;
  /** Idle time before a keep-alive connection is closed (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /**
   * Time for a whole request (head and body) to arrive from its first byte, as node:http's
   * headersTimeout and the body reader bound theirs: the idle timeout alone would let a client that
   * trickles a byte now and then hold the connection for ever. Answered 408, then closed.
   */
  requestArrivalMs: number;
}

/**
 * Puts the loop with `handler` in front of node:http's connection listener of `server`
 * (`connection` for http, `secureConnection` for https, after the TLS handshake). Without that
 * listener (an unexpected Node version) node:http serves everything.
 */
export function serveConnectionsFirst(server: Server, event: 'connection' | 'secureConnection', handler: FastHandler, options: FastLoopOptions): LoopConnections {
  return serveFirst(server, event, (socket, toNode) => void new LoopConnection(socket, handler, toNode, options, undefined));
}
