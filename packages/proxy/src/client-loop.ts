/**
 * The proxy's own HTTP/1.1 loop over client connections, in front of node:http. A forwarded small
 * request through node:http costs an IncomingMessage and a ServerResponse with their streams, events
 * and header objects on top of the forwarding itself; this loop parses plain heads (the strict parser
 * of @deimos/protocol), hands each whole request to a taker, and writes the member's answer as bytes.
 * Requests on a connection are served one at a time, in order, so that at the first request the taker
 * declines (or that is not in the plain form) the connection can go to node:http at a request
 * boundary, with its unanswered bytes put back (node:http's connection listener, as the member's
 * client port does). Answers are written at the end of the event-loop turn (TurnWriter of
 * @deimos/net, which also holds the request bytes, the plain-head step and the hand-over).
 *
 * Bytes that arrive while a request is being answered are put back into the socket, which stops
 * reading until the answer is complete (see holdBack): a client's FIN then waits behind them, so
 * that a connection handed to node:http later still learns of it and answers before closing.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from '@deimos/protocol';
import {
  connectionFields, destroySocket, readPlainRequest, RequestInput, serveFirst, TurnWriter, type LoopConnections, type ToNode,
} from '@deimos/net';
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

/** Answer bytes the socket may hold unsent before pipelined requests wait for 'drain'. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** Answer bytes queued for the end of the turn before they are handed to the socket to check its backpressure. */
const QUEUED_ANSWER_BYTES = 64 * 1024;

/** One client connection served by the loop; also the {@link ClientSide} of its current request. */
export class LoopClient implements ClientSide {
  private readonly input = new RequestInput();
  /** When the incomplete request in the buffer started arriving (0: none), against trickling clients. */
  private arrivingSinceMs = 0;
  private busy = false;
  private closeAfter = false;
  /** The current answer is re-framed in chunks (the member sent no length). */
  private chunked = false;
  private driving = false;
  private readEnded = false;
  /** The socket is no longer this loop's (closed, ending, or given to node:http). */
  private released = false;
  private readonly out: TurnWriter;
  private goneListener: (() => void) | undefined;
  gone = false;
  /** The client's address and the one it connected to (for X-Forwarded-For and a missing Host). */
  readonly remoteAddress: string;
  readonly localAddress: string;

  constructor(
    readonly socket: Socket,
    private readonly take: RequestTaker,
    private readonly toNode: ToNode,
    private readonly options: ClientLoopOptions,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
    socket.on('drain', this.onDrain);
    socket.setTimeout(options.keepAliveTimeoutMs);
    this.out = new TurnWriter(socket);
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.localAddress = socket.localAddress ?? 'localhost';
  }

  watchGone(listener: (() => void) | undefined): void {
    this.goneListener = listener;
  }

  head(head: ResponseHead): boolean {
    if (this.gone || !this.busy) return false;
    let text = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    if (head.endToEnd !== undefined) text += head.endToEnd;
    else {
      const headers = responseHeaders(head.rawHeaders);
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    this.startAnswer(text, head.streaming);
    return true;
  }

  /** Queues a status line and headers, with this connection's own hop-by-hop headers. */
  private startAnswer(text: string, streaming: boolean): void {
    if (streaming) text += 'Transfer-Encoding: chunked\r\n';
    text += connectionFields(this.closeAfter, Math.floor(this.options.keepAliveTimeoutMs / 1000));
    this.chunked = streaming;
    this.out.queue(text);
  }

  write(chunk: Buffer, resume: () => void): boolean {
    if (this.gone) return true;
    let ok = this.out.bytes(chunk, this.chunked);
    if (ok && this.out.queuedBytes >= QUEUED_ANSWER_BYTES) {
      // Small pieces are only queued: hand them over, and see whether the socket keeps up.
      this.out.flush();
      ok = !this.socket.writableNeedDrain;
    }
    if (!ok) this.socket.once('drain', resume);
    return ok;
  }

  end(): void {
    if (!this.busy) return;
    if (this.chunked) this.out.queue('0\r\n\r\n');
    this.complete();
  }

  abort(): void {
    this.socket.destroy();
  }

  fail(status: number, cause: string): void {
    if (!this.busy) return;
    const body = Buffer.from(clusterErrorText(cause));
    if (!this.gone) {
      this.startAnswer(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nDate: ${new Date().toUTCString()}\r\n`, false);
      this.out.queue(body.toString('latin1'));
    }
    this.complete();
  }

  /** The current request is answered: go on with the next one, or close. */
  private complete(): void {
    this.busy = false;
    this.goneListener = undefined;
    if (this.closeAfter) return this.endAfterFlush();
    if (!this.driving) this.drive();
  }

  private endAfterFlush(): void {
    this.release();
    // The client may reset while the answer goes out; an 'error' without a listener would end the process.
    this.socket.on('error', destroySocket);
    this.out.end();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.arrivingSinceMs !== 0 && this.arrivedTooSlowly()) {
      // As node:http answers past its bounds: 408, then close.
      this.out.queue('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      this.endAfterFlush();
      return;
    }
    // False: a body still arriving.
    if (!this.input.append(chunk)) return;
    if (this.busy) return this.holdBack();
    if (!this.driving) this.drive();
  };

  /** The incomplete request has taken longer than node:http would allow (a bound of 0 is none). */
  private arrivedTooSlowly(): boolean {
    const limit = this.input.needed > 0 ? this.options.requestTimeoutMs : this.options.headersTimeoutMs;
    return limit > 0 && Date.now() - this.arrivingSinceMs > limit;
  }

  /** Serves the complete requests in the buffer, one at a time, until one is still being answered. */
  private drive(): void {
    this.driving = true;
    try {
      const input = this.input;
      while (!this.busy && !this.released && input.buf !== undefined) {
        if (this.socket.writableLength + this.out.queuedBytes > MAX_UNSENT_BYTES) {
          // The client is not reading its answers: stop reading its requests until 'drain'.
          this.out.flush();
          this.holdBack();
          return;
        }
        const buf = input.buf;
        const r = readPlainRequest(buf, this.options.maxBodyBytes);
        // (A bare-LF line end would keep this loop waiting for a `\r\n\r\n` that never comes:
        // node:http answers it 400 at once.)
        if (r.kind === 'to-node') return this.giveToNode(buf);
        if (r.kind !== 'whole') {
          if (r.kind === 'body-incomplete') input.needed = r.total;
          if (this.arrivingSinceMs === 0) this.arrivingSinceMs = Date.now();
          break;
        }
        input.consume(r.total);
        this.arrivingSinceMs = 0;
        this.busy = true;
        this.closeAfter = !r.keepAlive;
        this.chunked = false;
        if (!this.take(r.head, r.body, this)) {
          this.busy = false;
          return this.giveToNode(buf);
        }
      }
      if (this.released) return;
      if (this.busy) {
        if (input.buf !== undefined) this.holdBack();
      } else if (this.socket.isPaused()) this.socket.resume();
      // The client half-closed: answer what it sent, then close (as node:http does).
      if (this.readEnded && !this.busy) this.endAfterFlush();
    } finally {
      this.driving = false;
    }
  }

  /** Puts the bytes of requests that must wait for the answer before them back into the socket (see RequestInput.holdBack). */
  private holdBack(): void {
    this.input.holdBack(this.socket, this.readEnded);
  }

  private readonly onEnd = (): void => {
    this.readEnded = true;
    if (!this.busy && !this.driving) this.drive();
  };

  private readonly onDrain = (): void => {
    if (!this.busy && !this.driving) this.drive();
  };

  private readonly onTimeout = (): void => {
    // A request being answered has its own deadline (the response timeout); only idle connections close.
    if (!this.busy) this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.gone = true;
    this.release();
    const listener = this.goneListener;
    this.goneListener = undefined;
    listener?.();
  };

  private giveToNode(bytes: Buffer): void {
    const rest = this.input.rest(bytes);
    if (this.readEnded) {
      // Not expected (see holdBack): node:http cannot be given bytes after 'end', and would never
      // learn of the FIN. Nothing of these requests was served: close once the answers are out.
      return this.endAfterFlush();
    }
    this.out.flush();
    this.release();
    this.socket.setTimeout(0);
    this.toNode(this.socket, rest);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('timeout', this.onTimeout);
    s.removeListener('drain', this.onDrain);
    s.removeListener('close', this.onClose);
  }
}

/** Reason phrases of the statuses the proxy answers itself. */
const STATUS_TEXT: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/**
 * Puts the loop in front of node:http's connection listener of `server` (`connection` for http,
 * `secureConnection` for https). Without that listener (an unexpected Node version) node:http serves
 * everything.
 */
export function serveClientsFirst(server: Server, event: 'connection' | 'secureConnection', take: RequestTaker, options: ClientLoopOptions): LoopConnections {
  return serveFirst(server, event, (socket, toNode) => void new LoopClient(socket, take, toNode, options));
}
