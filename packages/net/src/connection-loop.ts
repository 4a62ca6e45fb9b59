/**
 * The hand-written HTTP/1.1 connection loop of the member's client port and of deimos-proxy, in
 * front of node:http. node:http spends most of a small request's cost on its per-request machinery
 * (parser callbacks, an IncomingMessage and a ServerResponse with their streams, events and header
 * objects): this loop parses plain heads (the strict parser of @deimos/protocol), hands each whole
 * request to its handler with a {@link LoopExchange}, and writes the answers itself at the end of the
 * event-loop turn (turn-writer.ts). At the first request the handler declines, or that is not in the
 * plain form, the connection goes to node:http at a request boundary with its unanswered bytes put
 * back (serve-first.ts).
 *
 * Requests are taken in order and answered in order. A request waits until those before it are
 * answered, except pipelined reads when `pipelinedReads` allows more than one: a run of body-less
 * GETs is answered together (a proxy pipelines reads on its member connections; one at a time,
 * each linearizable read would wait for its own ReadIndex round), their answers still written in
 * request order. Writes never overlap anything, so a read sent behind a write sees it. The proxy
 * takes one request at a time (`pipelinedReads` 1): its forwarder sees one client request at once.
 *
 * Bytes that arrive while the requests before them are being answered are put back into the
 * socket, which stops reading until they may be taken (see RequestInput.holdBack): a client's FIN
 * then waits behind them, so that a connection handed to node:http later still learns of it.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RequestHead } from '@deimos/protocol';
import { LoopExchange, type ConnectionTaker, type ExchangeOwner } from './loop-exchange.js';
import { readPlainRequest, RequestInput, withEscapedTarget } from './request-input.js';
import { destroySocket, serveFirst, type LoopConnections, type ToNode } from './serve-first.js';
import { TurnWriter } from './turn-writer.js';

/** One whole request: its head and its body (undefined when empty). */
export interface LoopRequest {
  head: RequestHead;
  body: Buffer | undefined;
}

/**
 * Takes a request (returns true, then answers it exactly once through the exchange, now or later)
 * or declines it (returns false having written nothing): node:http then serves the connection
 * from this request on.
 */
export type LoopHandler = (request: LoopRequest, exchange: LoopExchange) => boolean;

/** Bounds and manners of a loop; the bounds match node:http's settings on the same listener. */
export interface ConnectionLoopOptions {
  /** Largest body read here; larger ones go to node:http, which answers the limit error. */
  maxBodyBytes: number;
  /** Idle time before a keep-alive connection is closed (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /**
   * Longest time a request head may take to arrive, from when the loop starts waiting for it
   * (node:http's headersTimeout; 0: none). Past it (or past `requestTimeoutMs` for a whole request
   * with its body) the request is answered 408 and the connection closed: the idle timeout alone
   * would let a client that trickles a byte now and then hold the connection for ever.
   */
  headersTimeoutMs: number;
  /** Longest time a whole request (head and body) may take to arrive (node:http's requestTimeout; 0: none). */
  requestTimeoutMs: number;
  /** Body-less GETs answered together on one connection, at most (1: one request at a time). */
  pipelinedReads: number;
  /** The text of answers: `utf8` for answers made here (the member), `latin1` for copied bytes (the proxy). */
  encoding: 'utf8' | 'latin1';
  /**
   * True while the server is stopping: each answer then says `Connection: close` and the
   * connection closes after it, so that clients reconnect (and are refused) instead of sending
   * on a connection the stop is about to cut.
   */
  draining?: () => boolean;
}

/** Unanswered bytes held while requests are being answered before reading stops (backpressure). */
const MAX_PENDING_BYTES = 64 * 1024;
/** Answer bytes unsent (queued or on the socket) before pipelined requests wait for 'drain'. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** node:http's answer past its arrival bounds. */
const REQUEST_TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** One connection served by the loop; see the module comment. */
export class ConnectionLoop implements ExchangeOwner {
  readonly keepAliveSeconds: number;
  /** Answers not yet written (see turn-writer.ts). */
  readonly out: TurnWriter;
  private readonly input = new RequestInput();
  /** When the loop started waiting for the request at the front of the input (performance.now()). */
  private requestSince = 0;
  /** The socket's idle timer counts down the arrival bound of a partial request (see armArrival). */
  private arrivalArmed = false;
  /** Requests taken and not yet written, in order. */
  private readonly pending: LoopExchange[] = [];
  /** Every pending request is a read (more reads may join them). */
  private pendingReadsOnly = true;
  /** The next request must wait until every pending one is answered. */
  private blocked = false;
  /** A taken request closes the connection after its answer: nothing after it is read. */
  private closing = false;
  private driving = false;
  private readEnded = false;
  /** The socket is no longer this loop's (closed, ended, lent or given to node:http). */
  private released = false;

  /** Serves `socket`, starting with `initial` bytes already read (a socket handed back after a lend). */
  constructor(
    readonly socket: Socket,
    private readonly handler: LoopHandler,
    private readonly toNode: ToNode,
    private readonly options: ConnectionLoopOptions,
    initial: Buffer | undefined = undefined,
  ) {
    this.keepAliveSeconds = Math.floor(options.keepAliveTimeoutMs / 1000);
    this.out = new TurnWriter(socket, options.encoding);
    if (initial !== undefined && initial.length > 0) {
      this.input.buf = initial;
      this.requestSince = performance.now();
    }
    this.attach();
    socket.setTimeout(options.keepAliveTimeoutMs);
    socket.resume();
    // A socket handed over late (after a shared connection bound answered, connection-gate.ts) may
    // have seen its peer's end already, with nothing sent before it: that 'end' was emitted before
    // these listeners, and waiting for it would hold the connection open forever.
    if (socket.readableEnded) this.readEnded = true;
    if (this.input.buf !== undefined || this.readEnded) this.drive();
  }

  /** An answer was made: writes the answers at the front that are complete, in order. */
  answered(): void {
    if (this.socket.destroyed) return this.dropPending();
    while (this.pending.length > 0 && this.pending[0]!.text !== undefined) {
      const front = this.pending[0]!;
      if (front.bodyStream !== undefined) {
        // A streamed body holds the connection (and the answers after it) until it ends.
        if (!front.streaming) front.startBody();
        return;
      }
      const answer = this.pending.shift()!;
      // (A streamed answer's text is '' once its body has ended.)
      if (answer.text !== '') this.out.queue(answer.text!);
      if (answer.bytes !== undefined) this.out.bytes(answer.bytes, false);
      if (answer.closeAfter) {
        this.dropPending();
        return this.endAfterFlush();
      }
    }
    if (this.pending.length === 0) {
      this.blocked = false;
      this.pendingReadsOnly = true;
    }
    if (this.driving) return;
    // Answered later (a write, once applied; a linearizable read; a member's answer through the
    // proxy): whatever else was ready has been read by now, so there is nothing to gain from
    // waiting for the end of the turn.
    this.out.flush();
    this.drive();
  }

  /** The socket is gone (or closing after an answer): forgets the pending answers. */
  private dropPending(): void {
    const dropped = this.pending.splice(0, this.pending.length);
    for (const answer of dropped) answer.drop();
  }

  lend(answer: LoopExchange, taker: ConnectionTaker): boolean {
    if (this.pending.length !== 1 || this.pending[0] !== answer || this.input.buf !== undefined || this.input.gatheredBytes > 0 || this.readEnded) return false;
    this.out.flush();
    this.detach();
    this.socket.pause();
    this.socket.setTimeout(0);
    const { socket, handler, toNode, options } = this;
    const handBack = (rest: Buffer | undefined): void => void new ConnectionLoop(socket, handler, toNode, options, rest);
    if (taker(socket, answer.head, handBack)) {
      this.released = true;
      this.pending.length = 0;
      return true;
    }
    this.attach();
    this.socket.setTimeout(options.keepAliveTimeoutMs);
    this.socket.resume();
    return false;
  }

  /** Closes the connection once its queued answers are written (at once unless reading a batch). */
  private endAfterFlush(): void {
    this.release();
    // The client may reset while the answer goes out; an 'error' without a listener would end the process.
    this.socket.on('error', destroySocket);
    this.out.end();
    if (!this.driving) this.out.flush();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.input.buf === undefined) this.requestSince = performance.now();
    if (!this.input.append(chunk)) {
      // A body still arriving.
      this.arrivalTimedOut();
      return;
    }
    this.drive();
  };

  /** Takes the complete requests in the buffer while they may be answered now (see the module comment). */
  private drive(): void {
    this.driving = true;
    try {
      let held = false;
      const input = this.input;
      const socket = this.socket;
      while (!this.released && !this.closing && input.buf !== undefined) {
        if (this.pending.length > 0 && (this.blocked || !this.pendingReadsOnly || this.pending.length >= this.options.pipelinedReads)) {
          held = true;
          break;
        }
        if (socket.writableLength + this.out.queuedBytes > MAX_UNSENT_BYTES) {
          this.out.flush();
          if (socket.writableLength > MAX_UNSENT_BYTES) {
            // The client is not reading its answers: stop reading its requests until 'drain'.
            this.holdBack();
            return;
          }
        }
        const buf = input.buf;
        const r = readPlainRequest(buf, this.options.maxBodyBytes);
        if (r.kind === 'to-node') return this.toNodeWhenIdle(buf);
        if (r.kind !== 'whole') {
          if (r.kind === 'body-incomplete') input.needed = r.total;
          if (this.arrivalTimedOut()) return;
          this.armArrival();
          break;
        }
        const { head, body, keepAlive } = r;
        const read = head.method === 'GET' && body === undefined;
        if (this.pending.length > 0 && !read) {
          this.blocked = true;
          break;
        }
        input.consume(r.total);
        this.requestSince = performance.now();
        if (this.arrivalArmed) {
          this.arrivalArmed = false;
          socket.setTimeout(this.options.keepAliveTimeoutMs);
        }
        const closeAfter = !keepAlive || this.options.draining?.() === true;
        const answer = new LoopExchange(this, head, closeAfter);
        this.pending.push(answer);
        if (!read) this.pendingReadsOnly = false;
        if (!this.handler({ head, body }, answer)) {
          // Declined (nothing written): node:http takes the connection once nothing is pending.
          this.pending.pop();
          if (this.pending.length === 0) {
            this.pendingReadsOnly = true;
            return this.giveToNode(buf);
          }
          input.buf = buf;
          this.blocked = true;
          break;
        }
        if (this.released) return; // lent, or closed after an answer made at once
        if (closeAfter) this.closing = true;
      }
      if (this.released) return;
      const backlog = input.buf?.length ?? 0;
      if (held) this.holdBack();
      else if (this.pending.length > 0 && backlog > MAX_PENDING_BYTES) socket.pause();
      else if (socket.isPaused() && socket.writableLength <= MAX_UNSENT_BYTES) socket.resume();
      // The client half-closed: answer what it sent, then close (as node:http does).
      if (this.readEnded && this.pending.length === 0) this.endAfterFlush();
    } finally {
      this.driving = false;
    }
  }

  /** Hands the connection to node:http now if nothing is pending, else once the pending answers are out. */
  private toNodeWhenIdle(buf: Buffer): void {
    if (this.pending.length === 0) return this.giveToNode(buf);
    this.blocked = true;
    this.holdBack();
  }

  /** Puts the bytes of requests that must wait for the answers before them back into the socket (see RequestInput.holdBack). */
  private holdBack(): void {
    this.input.holdBack(this.socket, this.readEnded);
  }

  /** The arrival bound of the request being received: its head's, or the whole request's once the head is in. */
  private arrivalLimitMs(): number {
    return this.input.needed > 0 ? this.options.requestTimeoutMs : this.options.headersTimeoutMs;
  }

  /** Answers 408 and closes when the request being received (with nothing pending) took too long to arrive. */
  private arrivalTimedOut(): boolean {
    if (this.pending.length > 0) return false;
    const limit = this.arrivalLimitMs();
    if (limit <= 0 || performance.now() - this.requestSince <= limit) return false;
    this.answerTimeout();
    return true;
  }

  private answerTimeout(): void {
    this.out.queue(REQUEST_TIMEOUT_ANSWER);
    this.endAfterFlush();
  }

  /**
   * A part of a request is in and nothing is being answered: the socket's idle timer becomes what
   * is left of the arrival bound. Checking the bound only when bytes arrive (a trickle) would let a
   * client that sends half a request and then nothing hold the connection for the keep-alive time.
   */
  private armArrival(): void {
    const limit = this.arrivalLimitMs();
    if (this.pending.length > 0 || limit <= 0) return;
    this.arrivalArmed = true;
    this.socket.setTimeout(Math.max(1, Math.ceil(limit - (performance.now() - this.requestSince))));
  }

  private readonly onEnd = (): void => {
    this.readEnded = true;
    if (!this.driving) this.drive();
  };

  private readonly onDrain = (): void => {
    if (!this.driving) this.drive();
  };

  private readonly onTimeout = (): void => {
    // A request being answered has its own deadline (the request timeout); only idle connections close.
    if (this.pending.length > 0) return;
    // Silent for the rest of the arrival bound with part of a request in: node:http's 408.
    if (this.arrivalArmed && this.input.buf !== undefined) return this.answerTimeout();
    this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.release();
    this.dropPending();
  };

  private giveToNode(bytes: Buffer): void {
    const rest = this.input.rest(bytes);
    this.out.flush();
    if (this.readEnded) {
      // Not expected (see holdBack): node:http cannot be given bytes after 'end', and would never
      // learn of the FIN. Nothing of these requests was served: close once the answers are out.
      this.release();
      this.socket.on('error', destroySocket);
      this.socket.end();
      return;
    }
    this.release();
    this.socket.setTimeout(0);
    this.toNode(this.socket, rest === undefined ? rest : withEscapedTarget(rest));
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.detach();
  }

  private attach(): void {
    const s = this.socket;
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('error', this.onError);
    s.on('close', this.onClose);
    s.on('timeout', this.onTimeout);
    s.on('drain', this.onDrain);
  }

  private detach(): void {
    const s = this.socket;
    s.removeListener('data', this.onData);
    s.removeListener('end', this.onEnd);
    s.removeListener('error', this.onError);
    s.removeListener('close', this.onClose);
    s.removeListener('timeout', this.onTimeout);
    s.removeListener('drain', this.onDrain);
  }
}

/**
 * Puts the loop with `handler` in front of node:http's connection listener of `server`
 * (`connection` for http, `secureConnection` for https, after the TLS handshake). Without that
 * listener (an unexpected Node version) node:http serves everything.
 */
export function serveLoopFirst(server: Server, event: 'connection' | 'secureConnection', handler: LoopHandler, options: ConnectionLoopOptions): LoopConnections {
  return serveFirst(server, event, (socket, toNode) => void new ConnectionLoop(socket, handler, toNode, options));
}
