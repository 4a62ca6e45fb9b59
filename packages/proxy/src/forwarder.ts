/**
 * Forwards one client request to a cluster member over keep-alive connections and streams the answer
 * back. The body is buffered (bounded) first, so that an attempt that fails without a response can be
 * repeated on another member: always for GET and HEAD, and for other methods only when the request
 * never reached a member (the connection was refused or not made within the dial timeout).
 * Watches (long polls and streams) have no read timeout and end when either side goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { takeRequest } from '@deimos/net';
import type { Endpoint, EndpointPool } from './endpoint-pool.js';
import type { ProxyMetrics } from './metrics.js';
import type { ProxyLogger } from './logger.js';
import { ResponseClient, type ClientSide } from './client-side.js';
import { MemberConnections, type ExchangeHandle } from './member-connections.js';
import { sendClusterError, sendJsonError } from './proxy-errors.js';
import { HOP_HEADER, headerText, requestHead } from './upstream-head.js';
import { isWatchRequest } from './watch-request.js';

/** More proxies than this in a row is treated as a loop. */
const MAX_HOPS = 8;


/** How the forwarder behaves. */
export interface ForwarderOptions {
  proxyId: string;
  dialTimeoutMs: number;
  responseTimeoutMs: number;
  maxRequestBytes: number;
  /** TLS client credentials for https members. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** A request ready to send upstream. */
export interface ForwardRequest {
  method: string;
  /** Request line and headers as sent to the member, ending with the empty line. */
  head: string;
  body: Buffer | undefined;
  /** A long poll or stream: no response timeout, no latency sample. */
  isWatch: boolean;
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

  /** Handles one client request that came through node:http, end to end. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (takeRequest(req, res)) return;
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
    const method = req.method ?? 'GET';
    const isWatch = isWatchRequest(method, req.url ?? '/');
    if (isWatch && !endsAtClientFin(req, res)) return;
    this.forward({ method, head, body, isWatch }, new ResponseClient(res));
  }

  /**
   * Sends a request to the best member and its answer to `client`, trying other members while that
   * is safe (see the top of this file); 503 when no member is left, 502 for a write that may have
   * been applied.
   */
  forward(request: ForwardRequest, client: ClientSide): void {
    this.tryNext(request, client, undefined, undefined);
  }

  /** One more attempt, on the best member not tried yet (callbacks, not promises: this runs per request). */
  private tryNext(request: ForwardRequest, client: ClientSide, tried: Set<Endpoint> | undefined, last: { ep: Endpoint; failure: AttemptFailure } | undefined): void {
    const ep = this.pool.pick(tried);
    if (!ep) {
      this.metrics.answeredLocally('unavailable');
      const cause = last
        ? `no cluster member answered (last: ${last.ep.url}: ${last.failure.error.code ?? last.failure.error.message})`
        : `no cluster member is available (${this.pool.all().length} known, all failed recently)`;
      client.fail(503, cause);
      return;
    }
    this.attempt(ep, request, client, (failure) => {
      if (failure === undefined || client.gone) return;
      // The pool logs the member's health: once when it goes down, not once per failure wait.
      this.pool.markFailed(ep, failure.error.code ?? failure.error.message);
      this.metrics.failed(ep.url);
      if (failure.reached && request.method !== 'GET' && request.method !== 'HEAD') {
        this.metrics.answeredLocally('ambiguous');
        client.fail(502, `${ep.url} took the ${request.method} request but gave no answer (${failure.error.code ?? failure.error.message}); it may or may not have been applied`);
        return;
      }
      this.metrics.retried();
      const next = tried ?? new Set<Endpoint>();
      next.add(ep);
      this.tryNext(request, client, next, { ep, failure });
    });
  }

  /** Reads the whole body within the limit; null when an error was already answered. */
  private readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined | null> | undefined {
    const length = req.headers['content-length'];
    if (length === undefined && req.headers['transfer-encoding'] === undefined) return undefined;
    if (declaresTooLarge(req, this.opts.maxRequestBytes)) {
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
    // The keys API's own answer to such a body (a member's, as etcd's Go server words it), so that
    // a client sees the same error through the proxy as without it.
    if (isKeysPath(req.url ?? '/')) {
      sendJsonError(res, 400, { errorCode: 210, message: 'Invalid POST form', cause: 'http: POST too large', index: 0 });
      return;
    }
    sendJsonError(res, 413, { message: `request body larger than ${this.opts.maxRequestBytes} bytes` });
  }

  /**
   * One attempt on one member. Calls `done` with undefined once the response has started (the
   * attempt is then final: the body streams to the client), or with why no response came.
   */
  private attempt(ep: Endpoint, request: ForwardRequest, client: ClientSide, done: (failure: AttemptFailure | undefined) => void): void {
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
      done(failure);
    };
    const plainRead = !request.isWatch && (request.method === 'GET' || request.method === 'HEAD');
    const handle: ExchangeHandle = this.connections.send(ep, request.head, request.body, request.method === 'HEAD', {
      head: (h) => {
        const ms = performance.now() - started;
        if (!request.isWatch) {
          this.pool.recordLatency(ep, ms);
          this.metrics.observeLatency(ep.url, ms);
        }
        finish(undefined);
        if (!client.head(h)) handle.abort();
      },
      body: (chunk) => {
        if (!client.write(chunk, handle.resume)) handle.pause();
      },
      complete: () => {
        client.watchGone(undefined);
        client.end();
      },
      failed: (error, phase, afterHead) => {
        client.watchGone(undefined);
        if (afterHead || settled) client.abort();
        else finish({ error, reached: phase === 'sent' && !refusedAtHandshake(error) });
      },
    }, plainRead);
    client.watchGone(() => {
      if (!settled) this.pool.recordUnanswered(ep, performance.now() - started);
      handle.abort();
      finish(undefined);
    });
    // Every request, a watch too, must get its head in time: members (deimos' and etcd's) send a
    // watch's head as soon as it is registered, so a member that sends none is stuck (stopped,
    // overloaded) and the watch is better asked of another; once its head is in, it may wait for ever.
    const ms = this.opts.responseTimeoutMs;
    const overdue = (): void => {
      // Decided after the event loop's next poll for I/O: timers run before it, so when the proxy
      // was starved of CPU (a loaded machine) past the timeout, an answer that has already arrived
      // would otherwise be read only after the timer has blamed the member for it.
      setImmediate(() => {
        if (settled) return;
        // Waiting behind another client's answer is not the member's fault: the read went elsewhere.
        if (handle.unblock()) responseTimer = setTimeout(overdue, ms);
        else handle.abort(codedError('ERESPONSETIMEOUT', `no response within ${ms} ms`));
      });
    };
    responseTimer = setTimeout(overdue, ms);
  }

  /** Closes pooled connections. */
  close(): void {
    this.connections.close();
  }
}

/** A request whose Content-Length is over the body bound: refused without reading its body. */
export function declaresTooLarge(req: { headers: { 'content-length'?: string } }, maxRequestBytes: number): boolean {
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > maxRequestBytes;
}

/**
 * Ends a watch when its client half-closes, as Go's server (etcd's proxy) cancels a request whose
 * client sent its FIN. The listeners answer half-closed clients (httpAllowHalfOpen), which is what a
 * write needs; a watch, though, may wait for ever, and a client that went away would hold its
 * connection (and the one to the member) until an event. False when the client is already gone.
 */
function endsAtClientFin(req: IncomingMessage, res: ServerResponse): boolean {
  const socket = req.socket;
  const end = (): void => void res.destroy();
  if (socket.readableEnded) {
    end();
    return false;
  }
  socket.once('end', end);
  res.once('close', () => socket.off('end', end));
  return true;
}

function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * A TLS alert from the member: with TLS 1.3 the client's handshake ends before the member checks the
 * client certificate, so the request is written and then refused; the member handled none of it.
 */
function refusedAtHandshake(error: Error & { code?: string }): boolean {
  return typeof error.code === 'string' && /^ERR_SSL_\w*ALERT/.test(error.code);
}

/** Whether `url` is a keys API request (`/v2/keys...`, or the original Deimos's `/keys...`). */
function isKeysPath(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return /^\/(?:v2\/)?keys(?:\/|$)/.test(path);
}
