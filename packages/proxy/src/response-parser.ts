/**
 * An incremental HTTP/1.1 response parser for the answers of cluster members: status line and
 * headers, then a body framed by Content-Length, chunked encoding (decoded, as Node's parser does), or
 * the end of the connection. It exists because Node's http client costs about twice as much CPU per
 * request as the rest of the proxy; members are trusted, but malformed input still fails cleanly.
 */
import { HOP_BY_HOP } from './hop-by-hop.js';

/** A parsed status line and header block. */
export interface ResponseHead {
  status: number;
  reason: string;
  /** Headers as sent, flat: name, value, name, value, ... */
  readonly rawHeaders: string[];
  /**
   * The header lines as sent minus the hop-by-hop ones (Connection, Keep-Alive, Transfer-Encoding,
   * ...), each ending with CRLF: what a proxy relays. Undefined when the Connection header names
   * further headers (then filter {@link rawHeaders}).
   */
  endToEnd: string | undefined;
  /** The body ends with the connection (no length, not chunked). */
  untilClose: boolean;
  /** The body has no declared length: a stream (e.g. a `stream=true` watch). */
  streaming: boolean;
  /** The body's declared length (Content-Length); undefined for a stream. */
  readonly bodyLength?: number;
  /** The member will close the connection after this response. */
  close: boolean;
  /** `Keep-Alive: timeout=N` in ms, if given. */
  keepAliveTimeoutMs?: number;
}

/** What the parser reports. */
export interface ResponseSink {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
  complete(): void;
}

/** Malformed response bytes. */
export class ResponseParseError extends Error {
  readonly code = 'ERR_MEMBER_RESPONSE';
}

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

type State = 'head' | 'fixed' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'until-close' | 'done';

/** Parser of one response at a time on one connection. */
export class ResponseParser {
  private state: State = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private noBody = false;

  constructor(private readonly sink: ResponseSink) {}

  /** Prepares for the next response; `noBody` for HEAD requests. */
  reset(noBody: boolean): void {
    this.state = 'head';
    this.pending = undefined;
    this.remaining = 0;
    this.noBody = noBody;
  }

  /** True once the current response is complete. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Feeds bytes; throws {@link ResponseParseError}. Bytes after a complete response are an error. */
  execute(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (data.length > 0) {
      switch (this.state) {
        case 'head': {
          const end = data.indexOf(HEAD_END);
          if (end < 0) {
            if (data.length > MAX_HEAD_BYTES) throw new ResponseParseError('response header block too large');
            this.pending = data;
            return;
          }
          this.onHead(data.toString('latin1', 0, end));
          data = data.subarray(end + 4);
          break;
        }
        case 'fixed': {
          const n = Math.min(this.remaining, data.length);
          this.sink.body(n === data.length ? data : data.subarray(0, n));
          this.remaining -= n;
          data = data.subarray(n);
          if (this.remaining === 0) this.finish();
          break;
        }
        case 'until-close':
          this.sink.body(data);
          return;
        case 'chunk-size':
        case 'chunk-crlf':
        case 'trailers': {
          const eol = data.indexOf(CRLF);
          if (eol < 0) {
            if (data.length > MAX_HEAD_BYTES) throw new ResponseParseError('chunk line too long');
            this.pending = data;
            return;
          }
          const line = data.toString('latin1', 0, eol);
          data = data.subarray(eol + 2);
          this.onLine(line);
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length);
          this.sink.body(n === data.length ? data : data.subarray(0, n));
          this.remaining -= n;
          data = data.subarray(n);
          if (this.remaining === 0) this.state = 'chunk-crlf';
          break;
        }
        case 'done':
          throw new ResponseParseError('bytes after a complete response');
      }
    }
  }

  /** The connection ended: completes a read-until-close body; false when the response was cut short. */
  endOfStream(): boolean {
    if (this.state === 'until-close') {
      this.finish();
      return true;
    }
    return this.state === 'done';
  }

  private finish(): void {
    this.state = 'done';
    this.sink.complete();
  }

  private onLine(line: string): void {
    if (this.state === 'chunk-crlf') {
      if (line !== '') throw new ResponseParseError('missing CRLF after chunk data');
      this.state = 'chunk-size';
      return;
    }
    if (this.state === 'trailers') {
      if (line === '') this.finish();
      return; // trailers are dropped, as a proxy that decoded the chunking may do
    }
    const hex = line.split(';', 1)[0]!.trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ResponseParseError(`bad chunk size "${hex.slice(0, 20)}"`);
    this.remaining = parseInt(hex, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
  }

  private onHead(text: string): void {
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(text.slice(0, eol));
    if (!m) throw new ResponseParseError(`bad status line "${text.slice(0, Math.min(eol, 40))}"`);
    const status = Number(m[2]);
    let length: number | undefined;
    let chunked = false;
    let close = m[1] === '0';
    let keepAliveTimeoutMs: number | undefined;
    // The end-to-end header lines are the text with the hop-by-hop lines cut out.
    let endToEnd: string | undefined = '';
    let keptFrom = eol + 2;
    for (let at = eol + 2; at < text.length;) {
      let end = text.indexOf('\r\n', at);
      if (end < 0) end = text.length;
      const colon = text.indexOf(':', at);
      if (colon <= at || colon >= end) throw new ResponseParseError('bad header line');
      const name = mayMatter(text, at, colon) ? text.slice(at, colon).toLowerCase() : '';
      if (name !== '' && (HOP_BY_HOP.has(name) || name === 'content-length')) {
        const value = text.slice(colon + 1, end).trim();
        switch (name) {
          case 'content-length':
            if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) throw new ResponseParseError('bad Content-Length');
            length = Number(value);
            break;
          case 'transfer-encoding':
            chunked = /(^|,)\s*chunked\s*$/i.test(value);
            break;
          case 'connection':
            if (value === 'keep-alive') close = false;
            else if (/(^|,)\s*close\s*(,|$)/i.test(value)) close = true;
            else if (/(^|,)\s*keep-alive\s*(,|$)/i.test(value)) close = false;
            // Other names listed there are hop-by-hop too: the caller filters the pairs instead.
            if (value !== 'keep-alive' && !/^\s*(close|keep-alive)\s*$/i.test(value)) endToEnd = undefined;
            break;
          case 'keep-alive': {
            const t = /timeout=(\d+)/i.exec(value);
            if (t) keepAliveTimeoutMs = Number(t[1]) * 1000;
            break;
          }
        }
        if (name !== 'content-length' && endToEnd !== undefined) {
          endToEnd += text.slice(keptFrom, at);
          keptFrom = end + 2;
        }
      }
      at = end + 2;
    }
    if (status >= 100 && status < 200) return; // an interim response (100 Continue): the real one follows
    if (endToEnd !== undefined && keptFrom < text.length) endToEnd += `${text.slice(keptFrom)}\r\n`;
    const bodyless = this.noBody || status === 204 || status === 304;
    const untilClose = !bodyless && !chunked && length === undefined;
    this.sink.head(new ParsedHead(text, eol, status, m[3] ?? '', endToEnd, untilClose, !bodyless && length === undefined, close || untilClose, keepAliveTimeoutMs, bodyless ? 0 : length));
    if (bodyless || length === 0) this.finish();
    else if (chunked) this.state = 'chunk-size';
    else if (length !== undefined) {
      this.remaining = length;
      this.state = 'fixed';
    } else this.state = 'until-close';
  }
}

/** Lengths of the header names the parser looks at (hop-by-hop ones and Content-Length). */
const NAME_LENGTHS = new Set([...HOP_BY_HOP, 'content-length'].map((n) => n.length));
/** Their first letters, lowercase. */
const NAME_STARTS = new Set([...HOP_BY_HOP, 'content-length'].map((n) => n.charCodeAt(0)));

/** False for a header name that is surely none of those (most names): they need no lowercasing. */
function mayMatter(text: string, start: number, end: number): boolean {
  return NAME_LENGTHS.has(end - start) && NAME_STARTS.has(text.charCodeAt(start) | 0x20);
}

/** A parsed head; the header pairs are only split out when asked for. */
class ParsedHead implements ResponseHead {
  private pairs: string[] | undefined;

  constructor(
    private readonly text: string,
    private readonly statusLineEnd: number,
    readonly status: number,
    readonly reason: string,
    readonly endToEnd: string | undefined,
    readonly untilClose: boolean,
    readonly streaming: boolean,
    readonly close: boolean,
    readonly keepAliveTimeoutMs: number | undefined,
    readonly bodyLength: number | undefined,
  ) {}

  get rawHeaders(): string[] {
    if (this.pairs !== undefined) return this.pairs;
    const pairs: string[] = [];
    const text = this.text;
    for (let at = this.statusLineEnd + 2; at < text.length;) {
      let end = text.indexOf('\r\n', at);
      if (end < 0) end = text.length;
      const colon = text.indexOf(':', at);
      pairs.push(text.slice(at, colon), text.slice(colon + 1, end).trim());
      at = end + 2;
    }
    return (this.pairs = pairs);
  }
}
