/**
 * The HTTP layer: one got instance with keep-alive agents, per-request timeouts, and failover
 * across endpoints with retries only where they cannot apply a write twice.
 */
import { Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { setMaxListeners } from 'node:events';
import { Agent as HttpsAgent } from 'node:https';
import got, { RequestError, type Got } from 'got';
import { requestBody, requestUrl, type DebugListener } from './debug-events.js';
import type { Endpoints } from './endpoints.js';
import { ClientClosedError, ClusterUnavailableError, DeimosError, OutcomeUnknownError, errorFromResponse } from './errors.js';
import { linkedSignal } from './linked-signal.js';
import { InvalidResponseError } from './response-shape.js';

/**
 * How a request may be retried on another endpoint.
 * - `read`: GETs and watches; retried on any connection error, timeout or 5xx.
 * - `conditional`: writes that cannot apply twice (create with prevExist=false, CAS/CAD with
 *   prevIndex/prevValue, TTL refresh); retried like reads, but an answer after an unknown outcome is
 *   flagged (`afterUnknownOutcome`): a 101/105 may then mean that the earlier attempt applied.
 * - `unsafe`: plain set, delete, POST and member changes; retried only when the connection was
 *   refused or never made (the request reached no member). 5xx answers are returned as they are.
 */
export type RequestSafety = 'read' | 'conditional' | 'unsafe';

/** One logical request, sent to one endpoint after another until one answers. */
export interface HttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** The encoded path, e.g. `/v2/keys/a%20b`. */
  path: string;
  /** Query parameters; a function is called again for every attempt (a watch's resume index can move). */
  query?: Record<string, string> | (() => Record<string, string>);
  /** An `application/x-www-form-urlencoded` body. */
  form?: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  safety: RequestSafety;
  /**
   * Per-attempt timeout; `null` for none (watches: only the response headers, which a member sends
   * as soon as the watch is registered, must arrive within the client's timeout). Default: the client's.
   */
  timeoutMs?: number | null;
  signal?: AbortSignal;
  /** Called with the headers of every response (before its body) and the endpoint that sent them, e.g. to learn a watch's X-Etcd-Index. */
  onHeaders?: (headers: IncomingHttpHeaders, endpoint: string) => void;
  /** Send to exactly this endpoint (no failover). */
  endpoint?: string;
}

/** A response with any status (non-2xx statuses are turned into errors by the caller). */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  endpoint: string;
  /** An earlier attempt of this request ended with an unknown outcome. */
  afterUnknownOutcome: boolean;
}

/** TLS material for https endpoints. */
export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
}

/** Error codes of a connection that was never made: the request reached no member. */
const NEVER_REACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * TLS failures before the server reads any request: the client refused the server's certificate, or
 * the server refused the client's with an alert during the handshake (it handles no data before).
 */
const TLS_HANDSHAKE_FAILED = /^(ERR_SSL_\w*ALERT\w*|ERR_TLS_CERT_ALTNAME_INVALID|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$/;

/** True when `err` says the request never reached a server. */
export function neverReached(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (NEVER_REACHED.has(code) || TLS_HANDSHAKE_FAILED.test(code));
}

/** Sends requests with failover; owns the keep-alive agents. */
export class Transport {
  private readonly got: Got;
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent: HttpsAgent;
  private readonly closer = closerController();

  constructor(
    private readonly endpoints: Endpoints,
    private readonly timeoutMs: number,
    tls: TlsOptions = {},
    private readonly debug?: DebugListener,
    /** An `Authorization` header value sent with every request (watches and the member sync included). */
    private readonly authorization?: string,
  ) {
    this.httpsAgent = new HttpsAgent({ keepAlive: true });
    this.got = got.extend({
      agent: { http: this.httpAgent, https: this.httpsAgent },
      https: {
        ...(tls.ca !== undefined ? { certificateAuthority: tls.ca } : {}),
        ...(tls.cert !== undefined ? { certificate: tls.cert } : {}),
        ...(tls.key !== undefined ? { key: tls.key } : {}),
        ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
      },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
    });
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.closer.signal.aborted;
  }

  /** Aborted by `close()` (backoff waits listen to it, so a closed client lets its process exit). */
  get closedSignal(): AbortSignal {
    return this.closer.signal;
  }

  /** Aborts every request in flight (watches included) and frees the sockets. */
  close(): void {
    if (this.closed) return;
    this.closer.abort(new ClientClosedError());
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Sends `req` to the pinned endpoint, failing over as its safety allows. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const order = req.endpoint !== undefined ? [req.endpoint] : this.endpoints.order();
    const errors: Error[] = [];
    let unknownOutcome = false;
    for (const endpoint of order) {
      this.throwIfStopped(req.signal);
      let res: HttpResponse;
      try {
        res = await this.sendTo(endpoint, req);
      } catch (err) {
        this.throwIfStopped(req.signal);
        if (!(err instanceof RequestError)) throw err;
        this.endpoints.failed(endpoint);
        if (req.safety === 'unsafe' && !neverReached(err)) throw new OutcomeUnknownError(endpoint, err);
        if (!neverReached(err)) unknownOutcome = true;
        errors.push(err);
        continue;
      }
      res.afterUnknownOutcome = unknownOutcome;
      // A web page (a server that is not a member, a balancer's error page): no member answers
      // with markup, so a read or a conditional write goes on to the next endpoint instead of
      // failing on this one for ever (it stayed pinned); a plain write cannot know what happened
      // and fails, and the next request starts elsewhere.
      if (isMarkup(res.body)) {
        this.endpoints.failed(endpoint);
        if (req.safety === 'unsafe') throw new InvalidResponseError(endpoint);
        errors.push(new InvalidResponseError(endpoint));
        continue;
      }
      // 501 is an answer, not a failure: a read-only deimos-proxy refusing a write (tried elsewhere,
      // the same refusal ended as "cluster unavailable", hiding it).
      if (res.status >= 500 && res.status !== 501 && req.safety !== 'unsafe') {
        this.endpoints.failed(endpoint);
        const err = errorFromResponse(res.status, res.body, endpoint);
        errors.push(err);
        unknownOutcome = true;
        continue;
      }
      if (req.endpoint === undefined) this.endpoints.pin(endpoint);
      return res;
    }
    // Every endpoint a web page: not a cluster at all, said as etcd's client says it.
    if (errors.length > 0 && errors.every((e) => e instanceof InvalidResponseError)) throw errors[0]!;
    throw new ClusterUnavailableError(errors);
  }

  /** Like `send`, but a non-2xx answer becomes a thrown {@link DeimosError}. */
  async sendOk(req: HttpRequest): Promise<HttpResponse> {
    const res = await this.send(req);
    if (res.status >= 200 && res.status < 300) return res;
    throw responseError(res);
  }

  private async sendTo(endpoint: string, req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs === undefined ? this.timeoutMs : req.timeoutMs;
    const link = req.signal ? linkedSignal(this.closer.signal, req.signal) : undefined;
    try {
      return await this.sendWithSignal(endpoint, req, timeoutMs, link?.signal ?? this.closer.signal);
    } finally {
      link?.dispose();
    }
  }

  private async sendWithSignal(endpoint: string, req: HttpRequest, timeoutMs: number | null, signal: AbortSignal): Promise<HttpResponse> {
    const query = typeof req.query === 'function' ? req.query() : req.query;
    if (this.debug) {
      const body = requestBody(req.form, req.json);
      this.debug({ kind: 'request', method: req.method, url: requestUrl(endpoint, req.path, query), ...(body !== undefined ? { body } : {}) });
    }
    const pending = this.got(`${endpoint}${req.path}`, {
      method: req.method,
      responseType: 'text',
      resolveBodyOnly: false,
      isStream: false,
      signal,
      timeout: timeoutMs !== null ? { request: timeoutMs } : { response: this.timeoutMs },
      ...(this.authorization !== undefined ? { headers: { authorization: this.authorization } } : {}),
      ...(query !== undefined ? { searchParams: query } : {}),
      ...(req.form !== undefined ? { form: req.form } : {}),
      ...(req.json !== undefined ? { json: req.json } : {}),
    });
    const onHeaders = req.onHeaders;
    // A member may answer before it has read the whole body (a body over its --max-request-bytes:
    // 400 at once, then it stops reading), and the upload then fails with EPIPE/ECONNRESET. That
    // answer is kept: it says what happened, and that nothing was applied.
    let early: Promise<EarlyAnswer | undefined> | undefined;
    const hasBody = req.form !== undefined || req.json !== undefined;
    if (onHeaders || hasBody) {
      // got's own 'response' event comes after the body in promise mode; the native one does not.
      pending.on('request', (nativeRequest: ClientRequest) => {
        nativeRequest.once('response', (nativeResponse: IncomingMessage) => {
          onHeaders?.(nativeResponse.headers, endpoint);
          if (hasBody) early = readEarlyAnswer(nativeResponse);
        });
      });
    }
    try {
      const res = await pending;
      return { status: res.statusCode, headers: res.headers, body: res.body, endpoint, afterUnknownOutcome: false };
    } catch (err) {
      const answer = early !== undefined && isUploadFailure(err) ? await early : undefined;
      if (answer !== undefined) return { ...answer, endpoint, afterUnknownOutcome: false };
      throw err;
    }
  }

  private throwIfStopped(signal: AbortSignal | undefined): void {
    if (this.closed) throw new ClientClosedError();
    signal?.throwIfAborted();
  }
}

/** A complete response that arrived while the request body was still being sent. */
interface EarlyAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The upload broke off because the server stopped reading (it may have answered first). */
function isUploadFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return err instanceof RequestError && (code === 'EPIPE' || code === 'ECONNRESET');
}

/** Collects a response's body; undefined when the connection ends before the body is complete. */
function readEarlyAnswer(res: IncomingMessage): Promise<EarlyAnswer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    res.once('error', () => resolve(undefined));
    res.once('close', () => {
      if (!res.complete) resolve(undefined);
    });
  });
}

/** The {@link DeimosError} a non-2xx response stands for. */
export function responseError(res: HttpResponse): DeimosError {
  const err = errorFromResponse(res.status, res.body, res.endpoint);
  err.afterUnknownOutcome = res.afterUnknownOutcome;
  return err;
}

/** A numeric response header, or undefined. */
export function numericHeader(headers: IncomingHttpHeaders, name: string): number | undefined {
  const raw = headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The controller whose abort ends every request of a closed client. Each request in flight without
 * a signal of its own listens on it (got removes the listener when the request ends), so more than
 * ten at once is normal use, not a leak: without this node would print MaxListenersExceededWarning
 * on the application's stderr.
 */
function closerController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** An answer in HTML or XML: its first non-blank character is `<` (JSON never starts so). */
function isMarkup(body: string): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x3c;
  }
  return false;
}
