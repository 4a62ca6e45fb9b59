/**
 * One connection served by the client loop (see fast-connection.ts). Requests are taken in order
 * and answered in order. A request waits until those before it are answered, except pipelined
 * reads: a run of body-less GETs is answered together (a proxy pipelines reads on its member
 * connections; one at a time, each linearizable read would wait for its own ReadIndex round), their
 * answers still written in request order. Writes never overlap anything, so a read sent behind a
 * write sees it.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { hasBareLf, keepsAlive, parseRequestHead, plainBodyLength, type RequestHead } from '@deimos/protocol';
import type { ConnectionTaker, FastExchange, FastHandler, FastLoopOptions } from './fast-connection.js';
import { socketSink, type BodyStream } from './body-stream.js';
import { flushAtEndOfTurn, type Flushable } from './turn-flush.js';

/** Longest head read here; longer ones go to node:http (which answers 431 past its own bound). */
const MAX_HEAD_BYTES = 16 * 1024;
/** Unanswered bytes held while requests are being answered before reading stops (backpressure). */
const MAX_PENDING_BYTES = 64 * 1024;
/** Response bytes queued on the socket before pipelined requests wait for 'drain'. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** Pipelined reads answered together on one connection, at most. */
const MAX_CONCURRENT_READS = 64;
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
export type ToNode = (socket: Socket, bytes: Buffer | undefined) => void;

/** One request taken by the loop, until its answer is written. */
class PendingAnswer implements FastExchange {
  /** The whole answer once made (the head alone when its body is streamed). */
  text: string | undefined;
  /** The body to stream after `text`, until it has been written. */
  stream: BodyStream | undefined;
  /** The stream has been started. */
  streaming = false;
  /** The stream is chunked (HTTP/1.1). */
  chunked = false;
  /** The connection went away before this answer was written. */
  dropped = false;

  constructor(private readonly conn: LoopConnection, readonly head: RequestHead, public closeAfter: boolean) {}

  reply(status: number, headers: readonly (string | number)[], body: string | undefined): void {
    if (this.text !== undefined) return;
    const text = this.headText(status, headers, '');
    this.text = body === undefined ? text : text + body;
    this.conn.answered();
  }

  replyStream(status: number, headers: readonly (string | number)[], body: BodyStream): void {
    if (this.text !== undefined || this.dropped) return body.cancel();
    this.chunked = this.head.version === 'HTTP/1.1';
    // Without a length or chunks, only the end of the connection ends an HTTP/1.0 body.
    if (!this.chunked) this.closeAfter = true;
    this.text = this.headText(status, headers, this.chunked ? 'Transfer-Encoding: chunked\r\n' : '');
    this.stream = body;
    this.conn.answered();
  }

  private headText(status: number, headers: readonly (string | number)[], extra: string): string {
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    text += `${extra}Date: ${httpDate()}\r\n`;
    return text + (this.closeAfter ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${this.conn.keepAliveSeconds}\r\n\r\n`);
  }

  lend(taker: ConnectionTaker): boolean {
    return this.conn.lend(this, taker);
  }
}

/** See the module comment. */
export class LoopConnection implements Flushable {
  readonly keepAliveSeconds: number;
  private buf: Buffer | undefined;
  /** Chunks of a request still arriving, beyond `buf`, and their total size. */
  private more: Buffer[] = [];
  private moreBytes = 0;
  /** Bytes the current partial request needs before it can be parsed again. */
  private needed = 0;
  /** When the first byte of the request at the head of `buf` arrived (performance.now()). */
  private requestSince = 0;
  /** Requests taken and not yet written, in order. */
  private readonly pending: PendingAnswer[] = [];
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
  /** Answers not yet written (see turn-flush.ts) and whether the socket ends after them. */
  private outbox = '';
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: FastHandler,
    private readonly toNode: ToNode,
    private readonly options: FastLoopOptions,
    initial: Buffer | undefined,
  ) {
    this.keepAliveSeconds = Math.floor(options.keepAliveTimeoutMs / 1000);
    if (initial !== undefined && initial.length > 0) {
      this.buf = initial;
      this.requestSince = performance.now();
    }
    this.attach();
    socket.setTimeout(options.keepAliveTimeoutMs);
    socket.resume();
    if (this.buf !== undefined) this.drive();
  }

  /** An answer was made: writes the answers at the front that are complete, in order. */
  answered(): void {
    if (this.socket.destroyed) return this.dropPending();
    while (this.pending.length > 0 && this.pending[0]!.text !== undefined) {
      const front = this.pending[0]!;
      if (front.stream !== undefined) {
        // A streamed body holds the connection (and the answers after it) until it ends.
        if (!front.streaming) this.startStream(front);
        return;
      }
      const answer = this.pending.shift()!;
      this.queue(answer.text!);
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
    // Answered later (a write, once applied; a linearizable read): whatever else was ready has been
    // read by now, so there is nothing to gain from waiting for the end of the turn.
    this.flush();
    this.drive();
  }

  /** Writes `answer`'s head, then its body as the socket takes it; the next answers follow its end. */
  private startStream(answer: PendingAnswer): void {
    answer.streaming = true;
    this.queue(answer.text!);
    this.flush();
    const stream = answer.stream!;
    stream.pipe(socketSink(this.socket, answer.chunked, () => {
      answer.stream = undefined;
      answer.text = '';
      this.answered();
    }));
  }

  /** The socket is gone: forgets the pending answers, dropping bodies not yet streamed. */
  private dropPending(): void {
    const dropped = this.pending.splice(0, this.pending.length);
    for (const answer of dropped) {
      answer.dropped = true;
      if (answer.stream !== undefined && !answer.streaming) answer.stream.cancel();
    }
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

  /** Lends the bare socket to `taker` for `answer`'s request, when it is the only one on the connection. */
  lend(answer: PendingAnswer, taker: ConnectionTaker): boolean {
    if (this.pending.length !== 1 || this.pending[0] !== answer || this.buf !== undefined || this.moreBytes > 0 || this.readEnded) return false;
    this.flush();
    this.detach();
    this.socket.pause();
    this.socket.setTimeout(0);
    const { socket, handler, toNode, options } = this;
    const handBack = (rest: Buffer | undefined): void => void new LoopConnection(socket, handler, toNode, options, rest);
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

  private queue(text: string): void {
    if (this.outbox === '') flushAtEndOfTurn(this);
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

  private readonly onData = (chunk: Buffer): void => {
    if (this.buf === undefined) {
      this.buf = chunk;
      this.requestSince = performance.now();
    } else if (this.needed > 0) {
      // A body still arriving: gather the chunks and join them once, when it is complete.
      this.more.push(chunk);
      this.moreBytes += chunk.length;
      if (this.buf.length + this.moreBytes < this.needed) {
        this.arrivalTimedOut();
        return;
      }
      this.buf = Buffer.concat([this.buf, ...this.more]);
      this.more = [];
      this.moreBytes = 0;
    } else this.buf = Buffer.concat([this.buf, chunk]);
    this.drive();
  };

  /** Takes the complete requests in the buffer while they may be answered now (see the module comment). */
  private drive(): void {
    this.driving = true;
    try {
      let held = false;
      while (!this.released && !this.closing && this.buf !== undefined) {
        if (this.pending.length > 0 && (this.blocked || !this.pendingReadsOnly || this.pending.length >= MAX_CONCURRENT_READS)) {
          held = true;
          break;
        }
        if (this.socket.writableLength > MAX_UNSENT_BYTES) {
          // The client is not reading its answers: stop reading its requests until 'drain'.
          this.holdBack();
          return;
        }
        const buf = this.buf;
        const headEnd = buf.indexOf(HEAD_END);
        if (headEnd < 0) {
          if (buf.length > MAX_HEAD_BYTES || hasBareLf(buf)) return this.toNodeWhenIdle(buf);
          if (this.arrivalTimedOut()) return;
          break;
        }
        const head = parseRequestHead(buf.toString('latin1', 0, headEnd));
        const bodyLength = head === undefined ? -1 : plainBodyLength(head.headers);
        const keepAlive = head === undefined ? undefined : keepsAlive(head);
        if (head === undefined || bodyLength < 0 || bodyLength > this.options.maxBodyBytes || keepAlive === undefined) return this.toNodeWhenIdle(buf);
        const total = headEnd + 4 + bodyLength;
        if (buf.length < total) {
          this.needed = total;
          if (this.arrivalTimedOut()) return;
          break;
        }
        const read = head.method === 'GET' && bodyLength === 0;
        if (this.pending.length > 0 && !read) {
          this.blocked = true;
          break;
        }
        this.needed = 0;
        this.buf = buf.length > total ? buf.subarray(total) : undefined;
        this.requestSince = performance.now();
        const answer = new PendingAnswer(this, head, !keepAlive);
        this.pending.push(answer);
        if (!read) this.pendingReadsOnly = false;
        if (!this.handler({ head, body: bodyLength > 0 ? buf.subarray(headEnd + 4, total) : undefined }, answer)) {
          // Declined (nothing written): node:http takes the connection once nothing is pending.
          this.pending.pop();
          if (this.pending.length === 0) {
            this.pendingReadsOnly = true;
            return this.giveToNode(buf);
          }
          this.buf = buf;
          this.blocked = true;
          break;
        }
        if (this.released) return; // lent
        if (!keepAlive) this.closing = true;
      }
      if (this.released) return;
      const backlog = this.buf?.length ?? 0;
      if (held) this.holdBack();
      else if (this.pending.length > 0 && backlog > MAX_PENDING_BYTES) this.socket.pause();
      else if (this.socket.isPaused() && this.socket.writableLength <= MAX_UNSENT_BYTES) this.socket.resume();
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

  /**
   * Puts the bytes of requests that must wait for the answers before them back into the socket, and
   * stops reading until then. A client's FIN then waits behind them: the socket emits 'end' only once
   * its buffer is empty, and a FIN consumed here before a hand-over would never reach node:http
   * (which must see it to close after its answers), nor could bytes be put back after 'end'.
   */
  private holdBack(): void {
    this.socket.pause();
    if (this.buf === undefined || this.readEnded) return;
    const bytes = this.moreBytes > 0 ? Buffer.concat([this.buf, ...this.more]) : this.buf;
    this.buf = undefined;
    this.more = [];
    this.moreBytes = 0;
    this.needed = 0;
    this.socket.unshift(bytes);
  }

  /** Answers 408 and closes when the request being received (with nothing pending) took too long to arrive. */
  private arrivalTimedOut(): boolean {
    if (this.pending.length > 0 || performance.now() - this.requestSince <= this.options.requestArrivalMs) return false;
    this.queue(REQUEST_TIMEOUT_ANSWER);
    this.endAfterFlush();
    return true;
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
    if (this.pending.length === 0) this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.release();
    this.dropPending();
  };

  private giveToNode(bytes: Buffer): void {
    const rest = this.moreBytes > 0 ? Buffer.concat([bytes, ...this.more]) : bytes;
    this.flush();
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

/** An 'error' listener for a socket that is only closing. */
function destroySocket(this: Socket): void {
  this.destroy();
}
