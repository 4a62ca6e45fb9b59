/**
 * One request taken by the connection loop (connection-loop.ts), until its answer is written: how
 * the loop's user answers it. An answer is a whole reply, a streamed body (written as the socket
 * takes it, chunked when its length is not known) or a lent socket. Answers may be made in any
 * order; the loop writes them in request order.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from '@deimos/protocol';
import { onceDrainOrClose, type BodySink, type BodyStream } from './body-stream.js';
import { httpDate } from './http-date.js';
import { connectionFields } from './request-input.js';
import type { TurnWriter } from './turn-writer.js';

/**
 * Serves a connection itself for a while (a held watch). Returns true when it took the socket; it
 * must then either end it or call `handBack(rest)` with any bytes received after the request once
 * its response is complete, and the loop goes on with the following requests.
 */
export type ConnectionTaker = (socket: Socket, head: RequestHead, handBack: (rest: Buffer | undefined) => void) => boolean;

/** What an exchange needs from its connection loop. */
export interface ExchangeOwner {
  readonly socket: Socket;
  readonly out: TurnWriter;
  readonly keepAliveSeconds: number;
  /** An answer was made (or a streamed body ended): writes what is complete at the front. */
  answered(): void;
  /** Lends the socket for `exchange`'s request (see {@link LoopExchange.lend}). */
  lend(exchange: LoopExchange, taker: ConnectionTaker): boolean;
}

/** Body pieces queued for the end of the turn before they are handed to the socket to check its backpressure. */
const QUEUED_BODY_BYTES = 64 * 1024;

/**
 * See the module comment. Its fields and the methods after {@link lend} are the loop's
 * bookkeeping, not for the exchange's users.
 */
export class LoopExchange {
  /** The answer's text once made (the head alone when its body is streamed or given as bytes). */
  text: string | undefined;
  /** A whole answer's body given as bytes, written after `text`. */
  bytes: Buffer | undefined;
  /** The body to stream after `text`, until it has ended. */
  bodyStream: BodyStream | undefined;
  /** The stream has been started. */
  streaming = false;
  /** The stream is chunked (HTTP/1.1 without a known length). */
  chunked = false;
  /** The connection went away before this answer was written. */
  dropped = false;
  /** Called once if the connection goes away before this answer is written (see {@link watchGone}). */
  private goneListener: (() => void) | undefined;

  constructor(private readonly owner: ExchangeOwner, readonly head: RequestHead, public closeAfter: boolean) {}

  /** The connection's socket (its addresses; {@link lend} hands it over). */
  get socket(): Socket {
    return this.owner.socket;
  }

  /** The connection went away before this answer was written: nothing more reaches the client. */
  get gone(): boolean {
    return this.dropped;
  }

  /** An answer (whole or streamed) has been given. */
  get answered(): boolean {
    return this.text !== undefined;
  }

  /** Sets (or clears, with undefined) the one listener called if the connection goes away before the answer is written. */
  watchGone(listener: (() => void) | undefined): void {
    this.goneListener = listener;
  }

  /**
   * Writes the whole response (status, header pairs, body) and completes the request. Date and
   * the connection headers are added here, as node:http would. A string body is written as the
   * loop's text (utf8 on the member, latin1 on the proxy); a Buffer is written as it is.
   */
  reply(status: number, headers: readonly (string | number)[], body: string | Buffer | undefined): void {
    if (this.text !== undefined) return;
    const text = this.headText(status, headers, '');
    if (typeof body === 'string') this.text = text + body;
    else {
      this.text = text;
      this.bytes = body;
    }
    this.owner.answered();
  }

  /**
   * Writes the response head (status, header pairs, Date), then lets `body` write the body as the
   * socket takes it: chunked for HTTP/1.1; for HTTP/1.0 the raw body, then the connection closes.
   * Answers after it wait.
   */
  stream(status: number, headers: readonly (string | number)[], body: BodyStream): void {
    if (this.text !== undefined || this.dropped) return body.cancel();
    this.startStream(false);
    this.text = this.headText(status, headers, this.chunked ? 'Transfer-Encoding: chunked\r\n' : '');
    this.bodyStream = body;
    this.owner.answered();
  }

  /**
   * As {@link stream}, with a head copied as it came (a member's answer through the proxy):
   * `rawHead` is the status line and header lines, each ending in CRLF, written as they are (no
   * Date added); only the connection headers (and the chunked framing when `lengthKnown` is false)
   * are this loop's.
   */
  streamRaw(rawHead: string, lengthKnown: boolean, body: BodyStream): void {
    if (this.text !== undefined || this.dropped) return body.cancel();
    this.startStream(lengthKnown);
    const framing = this.chunked ? 'Transfer-Encoding: chunked\r\n' : '';
    this.text = rawHead + framing + connectionFields(this.closeAfter, this.owner.keepAliveSeconds);
    this.bodyStream = body;
    this.owner.answered();
  }

  /** Lends the bare socket to `taker` for this request, when it is the only one on the connection; false (nothing done) otherwise or when `taker` declines. */
  lend(taker: ConnectionTaker): boolean {
    return this.owner.lend(this, taker);
  }

  /** The body's framing: without a length or chunks, only the end of the connection ends an HTTP/1.0 body. */
  private startStream(lengthKnown: boolean): void {
    this.chunked = !lengthKnown && this.head.version === 'HTTP/1.1';
    if (!lengthKnown && !this.chunked) this.closeAfter = true;
  }

  private headText(status: number, headers: readonly (string | number)[], extra: string): string {
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    text += `${extra}Date: ${httpDate()}\r\n`;
    return text + connectionFields(this.closeAfter, this.owner.keepAliveSeconds);
  }

  /** The connection is gone with this answer unwritten: drops a body not yet started, tells the listener. */
  drop(): void {
    this.dropped = true;
    if (this.bodyStream !== undefined && !this.streaming) this.bodyStream.cancel();
    const listener = this.goneListener;
    this.goneListener = undefined;
    listener?.();
  }

  /** Starts the streamed body once this answer is at the front: its head is queued, then `stream` writes into the socket. */
  startBody(): void {
    this.streaming = true;
    this.owner.out.queue(this.text!);
    this.bodyStream!.pipe(new LoopSink(this.owner, this));
  }

  /** The streamed body ended (or was cut off): the answers after it follow. */
  bodyEnded(): void {
    this.bodyStream = undefined;
    this.text = '';
    this.goneListener = undefined;
    this.owner.answered();
  }
}

/**
 * The sink of a streamed body on the loop's socket. Text pieces (the member's rendered answers)
 * are written at once after the queued head; Buffer pieces (the proxy's copied bytes) go through
 * the end-of-turn writer, small ones batched with the head and each other.
 */
class LoopSink implements BodySink {
  private over = false;

  constructor(private readonly owner: ExchangeOwner, private readonly exchange: LoopExchange) {}

  write(piece: string | Buffer): boolean {
    const socket = this.owner.socket;
    // An empty chunk would end the body.
    if (this.over || socket.destroyed || piece.length === 0) return true;
    const chunked = this.exchange.chunked;
    const out = this.owner.out;
    if (typeof piece === 'string') {
      out.flush();
      return socket.write(chunked ? `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n` : piece);
    }
    let ok = out.bytes(piece, chunked);
    if (ok && out.queuedBytes >= QUEUED_BODY_BYTES) {
      // Small pieces are only queued: hand them over, and see whether the socket keeps up.
      out.flush();
      ok = !socket.writableNeedDrain;
    }
    return ok;
  }

  get bufferedBytes(): number {
    return this.owner.socket.writableLength + this.owner.out.queuedBytes;
  }

  onceDrain(fn: () => void): void {
    const socket = this.owner.socket;
    if (socket.destroyed) queueMicrotask(fn);
    else onceDrainOrClose(socket, fn);
  }

  end(): void {
    if (this.over) return;
    if (!this.owner.socket.destroyed && this.exchange.chunked) this.owner.out.queue('0\r\n\r\n');
    this.finish();
  }

  abort(): void {
    if (this.over) return;
    this.owner.socket.destroy();
    this.finish();
  }

  get gone(): boolean {
    return this.owner.socket.destroyed;
  }

  private finish(): void {
    this.over = true;
    this.exchange.bodyEnded();
  }
}
