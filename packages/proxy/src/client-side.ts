/**
 * Where the forwarder writes a member's answer: a node:http response (the general path) or a
 * connection of the proxy's own client loop (client-loop.ts). Both follow the same failover rules
 * because the forwarder sees only this interface.
 */
import type { ServerResponse } from 'node:http';
import { sendClusterError } from './proxy-errors.js';
import type { ResponseHead } from './response-parser.js';
import { responseHeaders } from './upstream-head.js';

/** The client end of one forwarded request. */
export interface ClientSide {
  /** The client went away: nothing more can be written. */
  readonly gone: boolean;
  /** Sets (or clears, with undefined) the one listener called if the client goes away before the end. */
  watchGone(listener: (() => void) | undefined): void;
  /** Starts the answer with the member's status and end-to-end headers; false when the client is gone. */
  head(head: ResponseHead): boolean;
  /** Writes body bytes; false when the client is not keeping up: `resume` is called once it is. */
  write(chunk: Buffer, resume: () => void): boolean;
  /** Completes the answer. */
  end(): void;
  /** Breaks the answer off (the member went away mid-body): the client must see a broken response. */
  abort(): void;
  /** Answers a cluster error (`errorCode` 300) itself; only before {@link head}. */
  fail(status: number, cause: string): void;
}

/** {@link ClientSide} over a node:http response. */
export class ResponseClient implements ClientSide {
  private listener: (() => void) | undefined;
  gone = false;

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      this.gone = !res.writableFinished;
      const listener = this.listener;
      this.listener = undefined;
      if (this.gone) listener?.();
    });
  }

  watchGone(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  head(head: ResponseHead): boolean {
    if (this.res.destroyed) return false;
    this.res.writeHead(head.status, head.reason, responseHeaders(head.rawHeaders));
    if (head.streaming) this.res.flushHeaders(); // a stream watch: the client learns at once that it is registered
    return true;
  }

  write(chunk: Buffer, resume: () => void): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', resume);
    return false;
  }

  end(): void {
    this.res.end();
  }

  abort(): void {
    this.res.destroy();
  }

  fail(status: number, cause: string): void {
    sendClusterError(this.res, status, cause);
  }
}
