/**
 * The client port's own HTTP/1.1 connection loop, in front of node:http. node:http spends most of a
 * small request's cost on its per-request machinery (parser callbacks, an IncomingMessage and a
 * ServerResponse with their streams, events and header objects): a bare loop over the socket that
 * parses the head, answers with one write and goes on is about 2.5x cheaper per request here. The
 * loop serves only what its handler takes (plain keys API requests); at the first request it does
 * not take, or that is not in the plain form (see @deimos/protocol request-head.ts: chunked bodies, Expect, Upgrade,
 * odd headers), the connection goes to node:http through its documented injection point (emitting the
 * socket to its connection listener) with the unanswered bytes put back. Requests on a connection
 * are answered one at a time, in order, so that hand-over is always at a request boundary.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { keepsAlive, parseRequestHead, plainBodyLength, type RequestHead } from '@deimos/protocol';

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

/** Longest head read here; longer ones go to node:http (which answers 431 past its own bound). */
const MAX_HEAD_BYTES = 16 * 1024;
/** Unanswered bytes held while a request is being answered before reading stops (backpressure). */
const MAX_PENDING_BYTES = 64 * 1024;
/** Response bytes queued on the socket before pipelined requests wait for 'drain'. */
const MAX_UNSENT_BYTES = 1024 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const REQUEST_TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

let dateSecond = -1;
let dateText = '';
/** The `Date` header value, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Where a connection goes when the loop lets it go. */
type ToNode = (socket: Socket, bytes: Buffer | undefined) => void;

/** One connection served by the loop; one request at a time. */
class FastConnection implements FastExchange {
  private buf: Buffer | undefined;
  /** Chunks of a request still arriving, beyond `buf`, and their total size. */
  private more: Buffer[] = [];
  private moreBytes = 0;
  /** Bytes the current partial request needs before it can be parsed again. */
  private needed = 0;
  /** When the first byte of the request at the head of `buf` arrived (performance.now()). */
  private requestSince = 0;
  private busy = false;
  private closeAfter = false;
  private current: RequestHead | undefined;
  private driving = false;
  private readEnded = false;
  /** The socket is no longer this loop's (closed, ended, lent or given to node:http). */
  private released = false;
  /** Answers not yet written (see queueFlush) and whether the socket ends after them. */
  private outbox = '';
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: FastHandler,
    private readonly toNode: ToNode,
    private readonly options: FastLoopOptions,
    initial: Buffer | undefined,
  ) {
    if (initial !== undefined && initial.length > 0) this.buf = initial;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
    socket.on('drain', this.onDrain);
    socket.setTimeout(options.keepAliveTimeoutMs);
    socket.resume();
    if (this.buf !== undefined) this.drive();
  }

  reply(status: number, headers: readonly (string | number)[], body: string | undefined): void {
    if (!this.busy) return;
    this.busy = false;
    this.current = undefined;
    if (this.socket.destroyed) return;
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    text += `Date: ${httpDate()}\r\n`;
    text += this.closeAfter ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.options.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
    if (body !== undefined) text += body;
    this.queue(text);
    if (this.closeAfter) return this.endAfterFlush();
    if (this.driving) return;
    // Answered later (a write, once applied; a linearizable read): whatever else was ready has been
    // read by now, so there is nothing to gain from waiting for the end of the turn.
    this.flush();
    this.drive();
  }

  /** Writes what this connection has queued now (before the socket changes hands or closes). */
  flush(): void {
    const text = this.outbox;
    if (text === '') return;
    this.outbox = '';
    if (this.socket.destroyed) return;
    if (this.ending) this.socket.end(text);
    else this.socket.write(text);
  }

  private queue(text: string): void {
    if (this.outbox === '') queueFlush(this);
    this.outbox += text;
  }

  /** Closes the connection once its queued answers are written (at once unless reading a batch). */
  private endAfterFlush(): void {
    this.release();
    this.ending = true;
    // The client may reset while the answer goes out; an 'error' without a listener would end the process.
    this.socket.on('error', destroySocket);
    if (this.outbox === '') this.socket.end();
    else if (!this.driving) this.flush();
  }

  lend(taker: ConnectionTaker): boolean {
    const head = this.current;
    if (head === undefined || this.buf !== undefined || this.moreBytes > 0 || this.readEnded) return false;
    this.flush();
    this.detach();
    this.socket.pause();
    this.socket.setTimeout(0);
    const { socket, handler, toNode, options } = this;
    const handBack = (rest: Buffer | undefined): void => void new FastConnection(socket, handler, toNode, options, rest);
    if (taker(socket, head, handBack)) {
      this.released = true;
      this.busy = false;
      return true;
    }
    this.attach();
    this.socket.setTimeout(options.keepAliveTimeoutMs);
    this.socket.resume();
    return false;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.buf === undefined) {
      this.buf = chunk;
      this.requestSince = performance.now();
    } else if (this.needed > 0) {
      // A body still arriving: gather the chunks and join them once, when it is complete.
      this.more.push(chunk);
      this.moreBytes += chunk.length;
      if (this.buf.length + this.moreBytes < this.needed) {
        if (!this.busy) this.arrivalTimedOut();
        return;
      }
      this.buf = Buffer.concat([this.buf, ...this.more]);
      this.more = [];
      this.moreBytes = 0;
    } else this.buf = Buffer.concat([this.buf, chunk]);
    if (this.busy) {
      if (this.buf.length > MAX_PENDING_BYTES) this.socket.pause();
      return;
    }
    this.drive();
  };

  /** Serves the complete requests in the buffer, one at a time, until one is still being answered. */
  private drive(): void {
    this.driving = true;
    try {
      while (!this.busy && !this.released && this.buf !== undefined) {
        if (this.socket.writableLength > MAX_UNSENT_BYTES) {
          // The client is not reading its answers: stop reading its requests until 'drain'.
          this.socket.pause();
          return;
        }
        const buf = this.buf;
        const headEnd = buf.indexOf(HEAD_END);
        if (headEnd < 0) {
          if (buf.length > MAX_HEAD_BYTES) return this.giveToNode(buf);
          if (this.arrivalTimedOut()) return;
          break;
        }
        const head = parseRequestHead(buf.toString('latin1', 0, headEnd));
        const bodyLength = head === undefined ? -1 : plainBodyLength(head.headers);
        const keepAlive = head === undefined ? undefined : keepsAlive(head);
        if (head === undefined || bodyLength < 0 || bodyLength > this.options.maxBodyBytes || keepAlive === undefined) return this.giveToNode(buf);
        const total = headEnd + 4 + bodyLength;
        if (buf.length < total) {
          this.needed = total;
          if (this.arrivalTimedOut()) return;
          break;
        }
        this.needed = 0;
        this.buf = buf.length > total ? buf.subarray(total) : undefined;
        this.requestSince = performance.now();
        this.busy = true;
        this.closeAfter = !keepAlive;
        this.current = head;
        const body = bodyLength > 0 ? buf.subarray(headEnd + 4, total) : undefined;
        if (!this.handler({ head, body }, this)) {
          this.busy = false;
          this.current = undefined;
          return this.giveToNode(buf);
        }
      }
      if (this.released) return;
      if (!this.busy && this.socket.isPaused()) this.socket.resume();
      // The client half-closed: answer what it sent, then close (as node:http does).
      if (this.readEnded && !this.busy) this.endAfterFlush();
    } finally {
      this.driving = false;
    }
  }

  /** Answers 408 and closes when the request being received took too long to arrive. */
  private arrivalTimedOut(): boolean {
    if (performance.now() - this.requestSince <= this.options.requestArrivalMs) return false;
    this.queue(REQUEST_TIMEOUT_ANSWER);
    this.endAfterFlush();
    return true;
  }

  private readonly onEnd = (): void => {
    this.readEnded = true;
    if (!this.busy && !this.driving) this.drive();
  };

  private readonly onDrain = (): void => {
    if (!this.busy && !this.driving) this.drive();
  };

  private readonly onTimeout = (): void => {
    // A request being answered has its own deadline (the request timeout); only idle connections close.
    if (!this.busy) this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.release();
  };

  private giveToNode(bytes: Buffer): void {
    const rest = this.moreBytes > 0 ? Buffer.concat([bytes, ...this.more]) : bytes;
    this.flush();
    this.release();
    this.socket.setTimeout(0);
    this.toNode(this.socket, rest);
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
 * Answers are written at the end of the event-loop turn (setImmediate), not as each is made: the
 * loop then reads every connection that is ready before writing to any, so one wake-up serves many
 * requests. Answering inside each read made a wake-up per request and cost about twice the CPU per
 * request at 64 clients here (serializable GETs: ~87 µs against ~43 µs).
 */
const toFlush: FastConnection[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // Connections queued while flushing (none expected: flush only writes) wait for the next turn.
  const batch = toFlush.splice(0, toFlush.length);
  for (const c of batch) c.flush();
}

function queueFlush(c: FastConnection): void {
  toFlush.push(c);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAll);
  }
}

/** An 'error' listener for a socket that is only closing. */
function destroySocket(this: Socket): void {
  this.destroy();
}

/** Connections served outside node:http, so that closing the listener can end them. */
export interface LoopConnections {
  /** Destroys every connection not handed to node:http. */
  destroyAll(): void;
}

/**
 * Puts the loop with `handler` in front of node:http's connection listener of `server`
 * (`connection` for http, `secureConnection` for https, after the TLS handshake). Without that
 * listener (an unexpected Node version) node:http serves everything.
 */
export function serveConnectionsFirst(server: Server, event: 'connection' | 'secureConnection', handler: FastHandler, options: FastLoopOptions): LoopConnections {
  const held = new Set<Socket>();
  const listeners = server.listeners(event) as Array<(socket: Socket) => void>;
  const httpListener = listeners.find((l) => l.name === 'connectionListener');
  if (httpListener === undefined) return { destroyAll: () => undefined };
  server.removeListener(event, httpListener);
  const toNode: ToNode = (socket, bytes) => {
    held.delete(socket);
    if (socket.destroyed) return;
    socket.pause();
    if (bytes !== undefined && bytes.length > 0) socket.unshift(bytes);
    httpListener.call(server, socket);
    socket.resume();
  };
  server.on(event, (socket: Socket) => {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    socket.setNoDelay(true);
    new FastConnection(socket, handler, toNode, options, undefined);
  });
  return {
    destroyAll: () => {
      for (const s of held) s.destroy();
      held.clear();
    },
  };
}
