/**
 * Forwards one client request to a cluster member over keep-alive connections and streams the answer
 * back. The body is buffered (bounded) first, so that an attempt that fails without a response can be
 * repeated on another member: always for GET and HEAD, and for other methods only when the request
 * never reached a member (the connection was refused or not made within the dial timeout).
 * Watches (long polls and streams) have no read timeout and end when either side goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Endpoint, EndpointPool } from './endpoint-pool.js';
import type { ProxyMetrics } from './metrics.js';
import type { ProxyLogger } from './logger.js';
import { MemberConnections, type ExchangeHandle } from './member-connections.js';
import { sendClusterError, sendJsonError } from './proxy-errors.js';

/** Header naming the proxies a request went through (loop detection). */
export const HOP_HEADER = 'x-deimos-proxy';
/** More proxies than this in a row is treated as a loop. */
const MAX_HOPS = 8;

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus ones we rewrite. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade']);
const REWRITTEN_REQUEST = new Set([...HOP_BY_HOP, 'content-length', 'x-forwarded-for', HOP_HEADER, 'expect']);

/** How the forwarder behaves. */
export interface ForwarderOptions {
  proxyId: string;
  dialTimeoutMs: number;
  responseTimeoutMs: number;
  maxRequestBytes: number;
  /** TLS client credentials for https members. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** Why an attempt got no response. */
interface AttemptFailure {
  error: Error & { code?: string };
  /** The request may have reached the member (so a write must not be repeated). */
  reached: boolean;
}

/** Forwards requests to the pool's members. */
export class Forwarder {
  private readonly connections: MemberConnections;

  constructor(
    private readonly pool: EndpointPool,
    private readonly metrics: ProxyMetrics,
    private readonly opts: ForwarderOptions,
    private readonly logger: ProxyLogger,
  ) {
    this.connections = new MemberConnections({ dialTimeoutMs: opts.dialTimeoutMs, tls: opts.tls });
  }

  /** Handles one client request end to end. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hops = headerText(req.headers[HOP_HEADER]);
    const hopList = hops === '' ? [] : hops.split(',').map((s) => s.trim());
    if (hopList.includes(this.opts.proxyId) || hopList.length >= MAX_HOPS) {
      this.metrics.answeredLocally('loop');
      req.resume();
      sendClusterError(res, 508, `proxy loop detected (this request already went through ${hops}); check the proxy's --endpoints`);
      return;
    }
    const body = await this.readBody(req, res);
    if (body === null) return;
    const head = requestHead(req, body, hops === '' ? this.opts.proxyId : `${hops}, ${this.opts.proxyId}`);
    const safe = req.method === 'GET' || req.method === 'HEAD';
    const isWatch = safe && isWatchUrl(req.url ?? '/');
    let clientGone = false;
    res.once('close', () => {
      clientGone = true;
    });
    const tried = new Set<Endpoint>();
    let last: { ep: Endpoint; failure: AttemptFailure } | undefined;
    for (;;) {
      const ep = this.pool.pick(tried);
      if (!ep) {
        this.metrics.answeredLocally('unavailable');
        const cause = last
          ? `no cluster member answered (last: ${last.ep.url}: ${last.failure.error.code ?? last.failure.error.message})`
          : `no cluster member is available (${this.pool.all().length} known, all failed recently)`;
        sendClusterError(res, 503, cause);
        return;
      }
      tried.add(ep);
      const failure = await this.attempt(ep, req, res, head, body, isWatch);
      if (failure === undefined || clientGone) return;
      this.pool.markFailed(ep);
      this.metrics.failed(ep.url);
      last = { ep, failure };
      this.logger.warn('member failed; skipping it for the failure wait', { member: ep.url, error: failure.error.code ?? failure.error.message });
      if (failure.reached && !safe) {
        this.metrics.answeredLocally('ambiguous');
        sendClusterError(res, 502, `${ep.url} took the ${req.method} request but gave no answer (${failure.error.code ?? failure.error.message}); it may or may not have been applied`);
        return;
      }
      this.metrics.retried();
    }
  }

  /** Reads the whole body within the limit; null when an error was already answered. */
  private readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined | null> | undefined {
    const length = req.headers['content-length'];
    if (length === undefined && req.headers['transfer-encoding'] === undefined) return undefined;
    if (length !== undefined && Number(length) > this.opts.maxRequestBytes) {
      this.tooLarge(req, res);
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.opts.maxRequestBytes) {
          req.removeAllListeners('data');
          this.tooLarge(req, res);
          resolve(null);
        } else chunks.push(chunk);
      });
      req.once('end', () => resolve(Buffer.concat(chunks, size)));
      req.once('error', () => resolve(null));
    });
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse): void {
    this.metrics.answeredLocally('too-large');
    req.resume();
    res.shouldKeepAlive = false;
    sendJsonError(res, 413, { message: `request body larger than ${this.opts.maxRequestBytes} bytes` });
  }

  /**
   * One attempt on one member. Resolves undefined once the response has started (the attempt is then
   * final: the body streams to the client), or with why no response came.
   */
  private attempt(ep: Endpoint, req: IncomingMessage, res: ServerResponse, head: string, body: Buffer | undefined, isWatch: boolean): Promise<AttemptFailure | undefined> {
    return new Promise((resolve) => {
      const started = performance.now();
      let settled = false;
      let responseTimer: NodeJS.Timeout | undefined;
      ep.inFlight += 1;
      this.metrics.forwarded(ep.url);
      const finish = (failure: AttemptFailure | undefined) => {
        if (settled) return;
        settled = true;
        ep.inFlight -= 1;
        clearTimeout(responseTimer);
        resolve(failure);
      };
      const onClientClose = () => {
        if (!res.writableFinished) handle.abort();
        finish(undefined);
      };
      const handle: ExchangeHandle = this.connections.send(ep, head, body, req.method === 'HEAD', {
        head: (h) => {
          const ms = performance.now() - started;
          if (!isWatch) {
            this.pool.recordLatency(ep, ms);
            this.metrics.observeLatency(ep.url, ms);
          }
          finish(undefined);
          if (res.destroyed) return handle.abort();
          res.writeHead(h.status, h.reason, responseHeaders(h.rawHeaders));
          if (h.streaming) res.flushHeaders(); // a stream watch: the client learns at once that it is registered
        },
        body: (chunk) => {
          if (!res.write(chunk)) {
            handle.pause();
            res.once('drain', handle.resume);
          }
        },
        complete: () => {
          res.off('close', onClientClose);
          res.end();
        },
        failed: (error, phase, afterHead) => {
          res.off('close', onClientClose);
          if (afterHead || settled) res.destroy(); // the member went away mid-body: the client must see a broken response
          else finish({ error, reached: phase === 'sent' && !refusedAtHandshake(error) });
        },
      });
      res.once('close', onClientClose);
      if (!isWatch) {
        responseTimer = setTimeout(() => handle.abort(codedError('ERESPONSETIMEOUT', `no response within ${this.opts.responseTimeoutMs} ms`)), this.opts.responseTimeoutMs);
      }
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.connections.close();
  }
}

function headerText(v: string | string[] | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
}

function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** Names listed in a Connection header (also hop-by-hop). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive') (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

/**
 * The request line and headers sent upstream: the client's headers minus hop-by-hop ones, plus
 * X-Forwarded-For, the hop list and the buffered body's length. Ends with the empty line.
 */
function requestHead(req: IncomingMessage, body: Buffer | undefined, hops: string): string {
  const raw = req.rawHeaders;
  const extra = connectionTokens(raw);
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (REWRITTEN_REQUEST.has(name) || extra?.has(name)) continue;
    if (name === 'host') hasHost = true;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (!hasHost) head += `Host: ${req.socket.localAddress ?? 'localhost'}\r\n`;
  const prior = headerText(req.headers['x-forwarded-for']);
  const client = req.socket.remoteAddress ?? 'unknown';
  head += `X-Forwarded-For: ${prior === '' ? client : `${prior}, ${client}`}\r\nX-Deimos-Proxy: ${hops}\r\n`;
  if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
  return `${head}\r\n`;
}

/** The member's response headers minus hop-by-hop ones, names as the member spelled them. */
function responseHeaders(raw: readonly string[]): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * A TLS alert from the member: with TLS 1.3 the client's handshake ends before the member checks the
 * client certificate, so the request is written and then refused; the member handled none of it.
 */
function refusedAtHandshake(error: Error & { code?: string }): boolean {
  return typeof error.code === 'string' && /^ERR_SSL_\w*ALERT/.test(error.code);
}

/** True for `GET ...?wait=true` (a long poll or a stream): no response timeout applies. */
export function isWatchUrl(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  return new URLSearchParams(url.slice(q + 1)).get('wait') === 'true';
}
