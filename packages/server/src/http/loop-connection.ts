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
import type { RequestHead } from '@deimos/protocol';
import { connectionFields, destroySocket, readPlainRequest, RequestInput, TurnWriter, type ToNode } from '@deimos/net';
import type { ConnectionTaker, FastExchange, FastHandler, FastLoopOptions } from './fast-connection.js';
import { socketSink, type BodyStream } from './body-stream.js';

/** Unanswered bytes held while requests are being answered before reading stops (backpressure). */
const MAX_PENDING_BYTES = 64 * 1024;
/** Response bytes queued on the socket before pipelined requests wait for 'drain'. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** Pipelined reads answered together on one connection, at most. */
const MAX_CONCURRENT_READS = 64;
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
    return text + connectionFields(this.closeAfter, this.conn.keepAliveSeconds);
  }

  lend(taker: ConnectionTaker): boolean {
    return this.conn.lend(this, taker);
  }
}

/** See the module comment. */
export class LoopConnection {
  readonly keepAliveSeconds: number;
  private readonly input = new RequestInput();
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
  /** Answers not yet written (see turn-writer.ts in @deimos/net). */
  private readonly out: TurnWriter;

  constructor(
    private readonly socket: Socket,
    private readonly handler: FastHandler,
    private readonly toNode: ToNode,
    private readonly options: FastLoopOptions,
    initial: Buffer | undefined,
  ) {
    this.keepAliveSeconds = Math.floor(options.keepAliveTimeoutMs / 1000);
    this.out = new TurnWriter(socket, 'utf8');
    if (initial !== undefined && initial.length > 0) {
      this.input.buf = initial;
      this.requestSince = performance.now();
    }
    this.attach();
    socket.setTimeout(options.keepAliveTimeoutMs);
    socket.resume();
    if (this.input.buf !== undefined) this.drive();
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
      this.out.queue(answer.text!);
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
    this.out.queue(answer.text!);
    this.out.flush();
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
    this.out.flush();
  }

  /** Lends the bare socket to `taker` for `answer`'s request, when it is the only one on the connection. */
  lend(answer: PendingAnswer, taker: ConnectionTaker): boolean {
    if (this.pending.length !== 1 || this.pending[0] !== answer || this.input.buf !== undefined || this.input.gatheredBytes > 0 || this.readEnded) return false;
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
      while (!this.released && !this.closing && input.buf !== undefined) {
        if (this.pending.length > 0 && (this.blocked || !this.pendingReadsOnly || this.pending.length >= MAX_CONCURRENT_READS)) {
          held = true;
          break;
        }
        if (this.socket.writableLength > MAX_UNSENT_BYTES) {
          // The client is not reading its answers: stop reading its requests until 'drain'.
          this.holdBack();
          return;
        }
        const buf = input.buf;
        const r = readPlainRequest(buf, this.options.maxBodyBytes);
        if (r.kind === 'to-node') return this.toNodeWhenIdle(buf);
        if (r.kind !== 'whole') {
          if (r.kind === 'body-incomplete') input.needed = r.total;
          if (this.arrivalTimedOut()) return;
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
        const answer = new PendingAnswer(this, head, !keepAlive);
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
        if (this.released) return; // lent
        if (!keepAlive) this.closing = true;
      }
      if (this.released) return;
      const backlog = input.buf?.length ?? 0;
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

  /** Puts the bytes of requests that must wait for the answers before them back into the socket (see RequestInput.holdBack). */
  private holdBack(): void {
    this.input.holdBack(this.socket, this.readEnded);
  }

  /** Answers 408 and closes when the request being received (with nothing pending) took too long to arrive. */
  private arrivalTimedOut(): boolean {
    if (this.pending.length > 0 || performance.now() - this.requestSince <= this.options.requestArrivalMs) return false;
    this.out.queue(REQUEST_TIMEOUT_ANSWER);
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
