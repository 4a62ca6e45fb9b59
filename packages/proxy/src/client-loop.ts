/**
 * The proxy's own HTTP/1.1 loop over client connections, in front of node:http: the connection
 * loop of @deimos/net (connection-loop.ts there, shared with the member's client port) with the
 * proxy's manners. A forwarded small request through node:http costs an IncomingMessage and a
 * ServerResponse with their streams, events and header objects on top of the forwarding itself;
 * the loop parses plain heads, hands each whole request to a taker, and writes the member's answer
 * as bytes (latin1 text, one character per byte). Requests on a connection are served one at a
 * time, in order (the forwarder sees one request of a client at once), so that at the first request
 * the taker declines (or that is not in the plain form) the connection can go to node:http at a
 * request boundary, with its unanswered bytes put back.
 *
 * {@link LoopClient} is the forwarder's {@link ClientSide} of one request on the loop: the
 * member's answer goes out with its own status line, reason phrase and headers (no Date added) as
 * a streamed body of the exchange, chunked when the member sent no length.
 */
import type { Server } from 'node:http';
import type { RequestHead } from '@deimos/protocol';
import { serveLoopFirst, type BodySink, type LoopConnections, type LoopExchange } from '@deimos/net';
import type { ClientSide } from './client-side.js';
import { clusterErrorText } from './proxy-errors.js';
import type { ResponseHead } from './response-parser.js';
import { responseHeaders } from './upstream-head.js';

export type { LoopConnections };

/**
 * Takes a whole request (returns true, then answers it exactly once through `client`) or declines it
 * (returns false having done nothing): node:http then serves the connection from this request on.
 */
export type RequestTaker = (head: RequestHead, body: Buffer | undefined, client: LoopClient) => boolean;

/** Bounds of the loop. */
export interface ClientLoopOptions {
  /** Largest body read here; larger ones go to node:http (which answers 413 through the forwarder). */
  maxBodyBytes: number;
  /** Idle time before a keep-alive connection is closed (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** Longest time a request head may take to arrive (node:http's headersTimeout). */
  headersTimeoutMs: number;
  /** Longest time a whole request may take to arrive (node:http's requestTimeout). */
  requestTimeoutMs: number;
}

/** The {@link ClientSide} of one request taken by the loop; see the module comment. */
export class LoopClient implements ClientSide {
  /** Where the member's body goes once the head is out (undefined before, or once ended). */
  private sink: BodySink | undefined;

  constructor(private readonly exchange: LoopExchange) {}

  get gone(): boolean {
    return this.exchange.gone;
  }

  /** The client's address (for X-Forwarded-For). */
  get remoteAddress(): string {
    return this.exchange.socket.remoteAddress ?? 'unknown';
  }

  /** The address the client connected to (for a missing Host). */
  get localAddress(): string {
    return this.exchange.socket.localAddress ?? 'localhost';
  }

  watchGone(listener: (() => void) | undefined): void {
    this.exchange.watchGone(listener);
  }

  head(head: ResponseHead): boolean {
    if (this.exchange.gone || this.exchange.answered) return false;
    let text = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    if (head.endToEnd !== undefined) text += head.endToEnd;
    else {
      const headers = responseHeaders(head.rawHeaders);
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    // One request at a time: the answer is at the front, so its body starts at once.
    this.exchange.streamRaw(text, !head.streaming, { pipe: (sink) => void (this.sink = sink), cancel: () => undefined });
    return true;
  }

  write(chunk: Buffer, resume: () => void): boolean {
    const sink = this.sink;
    if (sink === undefined || sink.write(chunk)) return true;
    // 'drain' only (not the sink's drain-or-close): a client that goes away aborts the member's
    // answer through watchGone; the member connection must not be resumed for it then.
    this.exchange.socket.once('drain', resume);
    return false;
  }

  end(): void {
    const sink = this.sink;
    this.sink = undefined;
    sink?.end();
  }

  abort(): void {
    this.exchange.socket.destroy();
  }

  fail(status: number, cause: string): void {
    if (this.exchange.answered) return;
    const body = Buffer.from(clusterErrorText(cause));
    this.exchange.reply(status, ['Content-Type', 'application/json', 'Content-Length', body.length], body);
  }
}

/**
 * Puts the loop in front of node:http's connection listener of `server` (`connection` for http,
 * `secureConnection` for https). Without that listener (an unexpected Node version) node:http serves
 * everything.
 */
export function serveClientsFirst(server: Server, event: 'connection' | 'secureConnection', take: RequestTaker, options: ClientLoopOptions): LoopConnections {
  return serveLoopFirst(server, event, ({ head, body }, exchange) => take(head, body, new LoopClient(exchange)), {
    ...options,
    pipelinedReads: 1,
    encoding: 'latin1',
  });
}
