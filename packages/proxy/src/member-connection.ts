/**
 * One keep-alive connection to one cluster member. Requests go out in order (written at the end of
 * the event-loop turn, see turn-writer.ts) and their responses are read back in the same order with
 * {@link ResponseParser}; several plain reads may be due at once (pipelined). Requests queued while
 * the connection is still being made fail as never sent if it cannot be made. The reads queued
 * behind an answer that stalls (its client does not read it) can be taken off the connection to be
 * sent again elsewhere: their answers, when they come, are read and dropped here.
 */
import type { Socket } from 'node:net';
import { ResponseParser, type ResponseHead } from './response-parser.js';
import { TurnWriter } from '@deimos/net';

/** Where an exchange failed: before the request was written, or after. */
export type FailurePhase = 'connect' | 'sent';

/** Callbacks of one exchange. */
export interface Exchange {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
  complete(): void;
  /** No complete response: `phase` says whether the request may have reached the member. */
  failed(error: Error & { code?: string }, phase: FailurePhase, afterHead: boolean): void;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** All its requests completed: it may be reused for `keepAliveMs`. */
  release(conn: MemberConnection, keepAliveMs: number): void;
  /** It closed, or is closing: nothing more may be queued on it (called once or twice). */
  forget(conn: MemberConnection): void;
  /** Nothing more may be pipelined on it (its current answer is large, long or stalled). */
  unpipeline(conn: MemberConnection): void;
}

/** A request on a connection: where its answer goes, and what was sent, to send it again elsewhere. */
export interface Ticket {
  exchange: Exchange;
  readonly head: string;
  readonly body: Buffer | undefined;
  readonly noBody: boolean;
  /** The connection it is (last) queued on. */
  conn: MemberConnection | undefined;
}

/**
 * A pipelined answer declaring more bytes than this is not queued behind: a client that reads slowly
 * (or not at all) could hold it on the connection for as long as it likes.
 */
const LARGE_ANSWER_BYTES = 64 * 1024;

const DEFAULT_KEEP_ALIVE_MS = 5000;

/** Ignores the response of a request whose client went away (the connection carries others). */
const DISCARD: Exchange = { head: () => undefined, body: () => undefined, complete: () => undefined, failed: () => undefined };

/** An error with a stable code. */
export function coded(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** One connection to one member: requests in order, their responses in the same order. */
export class MemberConnection {
  /** The requests whose responses are due, the first one being read. */
  readonly queue: Ticket[] = [];
  /** Still connecting (or in the TLS handshake). */
  connecting = true;
  /** Closed or closing (see {@link close}): never given another request. */
  closed = false;
  /** Only plain reads are due on it, so more may be pipelined behind them. */
  pipelined = false;
  reusableUntilMs = 0;
  private sawHead = false;
  private closeAfter = false;
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  private lastError: (Error & { code?: string }) | undefined;
  private readonly out: TurnWriter;
  private readonly parser = new ResponseParser({
    head: (head) => {
      this.sawHead = true;
      this.closeAfter = head.close;
      if (head.keepAliveTimeoutMs !== undefined) this.keepAliveMs = head.keepAliveTimeoutMs;
      if (this.pipelined && (head.bodyLength === undefined || head.bodyLength > LARGE_ANSWER_BYTES)) this.owner.unpipeline(this);
      this.queue[0]?.exchange.head(head);
    },
    body: (chunk) => this.queue[0]?.exchange.body(chunk),
    complete: () => {
      const done = this.queue.shift();
      this.sawHead = false;
      // Paused for a slow client whose answer is now read in full: what follows is someone else's.
      if (this.socket.isPaused()) this.socket.resume();
      if (this.closeAfter) this.close();
      else if (this.queue.length > 0) this.parser.reset(this.queue[0]!.noBody); // a pipelined response follows
      else this.owner.release(this, this.keepAliveMs);
      done?.exchange.complete();
    },
  });

  /** `key` names the member (its URL). */
  constructor(readonly socket: Socket, readonly key: string, private readonly owner: ConnectionOwner, dialTimeoutMs: number, tls: boolean) {
    this.out = new TurnWriter(socket);
    socket.setNoDelay(true);
    // The timer is checked once more after the event loop's next poll for I/O: timers run before
    // it, so when the proxy was starved of CPU (a loaded machine) past the timeout, the timer would
    // otherwise fire before the connection already made is seen, and fail a healthy member.
    const timer = setTimeout(() => setImmediate(() => {
      if (this.connecting && !this.closed) this.close(coded('EDIALTIMEOUT', `no connection within ${dialTimeoutMs} ms`));
    }), dialTimeoutMs);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      this.connecting = false;
      clearTimeout(timer);
    });
    socket.on('data', this.onData);
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.onClose();
    });
  }

  /** The member has started the answer at the head of the queue. */
  get answering(): boolean {
    return this.sawHead;
  }

  /** Queues a request; its response goes to `ticket.exchange`. */
  start(ticket: Ticket, pipelined: boolean): void {
    if (this.queue.length === 0) {
      this.sawHead = false;
      this.closeAfter = false;
      this.lastError = undefined;
      this.parser.reset(ticket.noBody);
      this.pipelined = pipelined;
    }
    ticket.conn = this;
    this.queue.push(ticket);
    this.out.queue(ticket.head);
    if (ticket.body !== undefined && ticket.body.length > 0) this.out.bytes(ticket.body, false);
  }

  /**
   * Closes the connection now (with `error`, what its due requests fail with). It leaves its pool's
   * lists at once, not at the socket's 'close' event, which comes in a later turn of the event loop:
   * a request queued on it in between would fail as if the member had broken the connection, and
   * the forwarder would mark a healthy member failed and answer that request's client 503.
   */
  close(error?: Error): void {
    if (!this.closed) {
      this.closed = true;
      this.owner.forget(this);
    }
    this.socket.destroy(error);
  }

  /**
   * Stops passing on the response of `ticket` (its client went away) while others are due on this
   * connection; false (nothing done) otherwise.
   */
  discard(ticket: Ticket): boolean {
    const i = this.queue.indexOf(ticket);
    if (i < 0 || !this.queue.some((q, k) => k !== i && q.exchange !== DISCARD)) return false;
    this.queue[i] = { exchange: DISCARD, head: '', body: undefined, noBody: ticket.noBody, conn: this };
    return true;
  }

  /**
   * Takes the requests queued behind the answer being read off this connection, to be sent again
   * elsewhere (only plain reads are ever queued behind another request, and they may be repeated);
   * their answers will be read and dropped here.
   */
  takeFollowers(): Ticket[] {
    const taken: Ticket[] = [];
    for (let i = 1; i < this.queue.length; i++) {
      const t = this.queue[i]!;
      if (t.exchange === DISCARD) continue;
      taken.push(t);
      this.queue[i] = { exchange: DISCARD, head: '', body: undefined, noBody: t.noBody, conn: this };
    }
    return taken;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.queue.length === 0) {
      this.close(); // bytes nobody asked for: the connection cannot be trusted any more
      return;
    }
    try {
      this.parser.execute(chunk);
    } catch (err) {
      this.close(err as Error);
    }
  };

  private onClose(): void {
    if (!this.closed) {
      this.closed = true;
      this.owner.forget(this);
    }
    if (this.connecting) {
      const error = this.lastError ?? coded('ECONNREFUSED', 'connection closed while connecting');
      for (const q of this.queue.splice(0, this.queue.length)) q.exchange.failed(error, 'connect', false);
      return;
    }
    // endOfStream() completes a body that ends with the connection (through the sink).
    if (this.queue.length === 0 || this.parser.endOfStream()) return;
    const failed = this.queue.splice(0, this.queue.length);
    const error = this.lastError ?? coded('ECONNRESET', 'the member closed the connection');
    failed.forEach((q, i) => q.exchange.failed(error, 'sent', i === 0 && this.sawHead));
  }
}
