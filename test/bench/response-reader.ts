/**
 * The load generator's HTTP/1.1 response reader: finds where each response on a keep-alive connection
 * ends (status line, `Content-Length`, chunked encoding, or the end of the connection) and reports its
 * status, without building header objects or body strings. Only a short prefix of a non-2xx body is
 * kept, for the error report. Kept minimal on purpose: the load generator must cost far less CPU per
 * request than the server it measures.
 */

/** One complete response. */
export interface ResponseSummary {
  status: number;
  /** The first bytes of the body of a non-2xx response (for the error report), else ''. */
  bodySample: string;
  /** The server will close the connection after this response (`Connection: close`, or HTTP/1.0). */
  close: boolean;
}

/** Bytes that cannot be an HTTP response; the connection is unusable. */
export class ResponseFormatError extends Error {
  readonly code = 'ERR_BENCH_RESPONSE';
}

const MAX_HEAD_BYTES = 64 * 1024;
const SAMPLE_BYTES = 300;

type State = 'head' | 'fixed' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'until-close';

/** Reads the responses of one connection, one at a time, in the order the requests were sent. */
export class ResponseReader {
  private state: State = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private status = 0;
  private close = false;
  private sample = '';
  private noBody = false;

  /** `onResponse` is called once per complete response. */
  constructor(private readonly onResponse: (r: ResponseSummary) => void) {}

  /** Expects the next response; `noBody` for the answer to a HEAD request. */
  expect(noBody: boolean): void {
    this.noBody = noBody;
  }

  /** Discards partial state (after a reconnect). */
  reset(): void {
    this.state = 'head';
    this.pending = undefined;
    this.sample = '';
  }

  /**
   * The connection ended: completes a response whose body runs until the close (`delivered`); else
   * `idle` between responses or `cut` in the middle of one.
   */
  end(): 'delivered' | 'idle' | 'cut' {
    if (this.state === 'until-close') {
      this.complete();
      return 'delivered';
    }
    return this.state === 'head' && this.pending === undefined ? 'idle' : 'cut';
  }

  /** Feeds received bytes; throws {@link ResponseFormatError} on bytes that are not a response. */
  feed(chunk: Buffer): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let at = 0;
    while (at < buf.length) {
      const next = this.step(buf, at);
      if (next < 0) {
        this.pending = at === 0 ? buf : buf.subarray(at);
        return;
      }
      at = next;
    }
  }

  /** Consumes from `at`; returns the new offset, or -1 when more bytes are needed. */
  private step(buf: Buffer, at: number): number {
    switch (this.state) {
      case 'head':
        return this.readHead(buf, at);
      case 'fixed': {
        const n = Math.min(this.remaining, buf.length - at);
        this.keepSample(buf, at, n);
        this.remaining -= n;
        if (this.remaining === 0) this.complete();
        return at + n;
      }
      case 'chunk-size': {
        const eol = buf.indexOf('\r\n', at, 'latin1');
        if (eol < 0) return this.needMore(buf, at);
        const size = Number.parseInt(buf.toString('latin1', at, eol).split(';', 1)[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) throw new ResponseFormatError('bad chunk size');
        this.remaining = size;
        this.state = size === 0 ? 'trailers' : 'chunk-data';
        return eol + 2;
      }
      case 'chunk-data': {
        const n = Math.min(this.remaining, buf.length - at);
        this.keepSample(buf, at, n);
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'chunk-crlf';
        return at + n;
      }
      case 'chunk-crlf':
        if (buf.length - at < 2) return -1;
        if (buf[at] !== 13 || buf[at + 1] !== 10) throw new ResponseFormatError('missing CRLF after a chunk');
        this.state = 'chunk-size';
        return at + 2;
      case 'trailers': {
        const eol = buf.indexOf('\r\n', at, 'latin1');
        if (eol < 0) return this.needMore(buf, at);
        if (eol === at) this.complete();
        return eol + 2;
      }
      case 'until-close':
        this.keepSample(buf, at, buf.length - at);
        return buf.length;
    }
  }

  private needMore(buf: Buffer, at: number): number {
    if (buf.length - at > MAX_HEAD_BYTES) throw new ResponseFormatError('header or chunk line too long');
    return -1;
  }

  private readHead(buf: Buffer, at: number): number {
    const end = buf.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) return this.needMore(buf, at);
    const head = buf.toString('latin1', at, end);
    // "HTTP/1.1 200 OK": the status is always at offset 9.
    if (!head.startsWith('HTTP/1.')) throw new ResponseFormatError(`not an HTTP/1.x response: ${JSON.stringify(head.slice(0, 40))}`);
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100) throw new ResponseFormatError(`bad status line: ${JSON.stringify(head.slice(0, 40))}`);
    const bodyAt = end + 4;
    if (status < 200) return bodyAt; // an interim answer (100 Continue): the real one follows
    const lower = head.toLowerCase();
    this.status = status;
    this.sample = '';
    this.close = head[7] === '0' ? !/\r\nconnection:[ \t]*keep-alive/.test(lower) : /\r\nconnection:[ \t]*close/.test(lower);
    if (this.noBody || status === 204 || status === 304) {
      this.complete();
      return bodyAt;
    }
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      this.state = 'chunk-size';
      return bodyAt;
    }
    const m = /\r\ncontent-length:[ \t]*(\d+)/.exec(lower);
    if (m) {
      this.remaining = Number(m[1]);
      if (this.remaining === 0) this.complete();
      else this.state = 'fixed';
      return bodyAt;
    }
    this.state = 'until-close';
    return bodyAt;
  }

  private keepSample(buf: Buffer, at: number, n: number): void {
    if (this.status >= 200 && this.status < 300) return;
    if (this.sample.length < SAMPLE_BYTES) this.sample += buf.toString('utf8', at, at + Math.min(n, SAMPLE_BYTES - this.sample.length));
  }

  private complete(): void {
    this.state = 'head';
    this.finish();
  }

  private finish(): void {
    const r: ResponseSummary = { status: this.status, bodySample: this.sample, close: this.close };
    this.sample = '';
    this.onResponse(r);
  }
}
