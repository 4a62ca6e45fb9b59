/**
 * Writing keys API responses: events, watch streams, wire errors and redirects, with etcd's status
 * codes and headers (§2 of the API reference). JSON text comes from the pure functions in go-json.ts.
 */
import type { ServerResponse } from 'node:http';
import type { EtcdError, EventJSON } from '@deimos/protocol';
import { responseSink, type BodyStream } from './body-stream.js';
import { writeHeadWithCors } from './cors.js';
import { errorToGoJson, eventToGoJson } from './go-json.js';
import type { Redirect } from './keys-request.js';

/** Index headers of a successful keys response. */
export interface EventHeaders {
  /** Lowercase hex cluster id (`X-Etcd-Cluster-Id`). */
  clusterId: string;
  /** `X-Etcd-Index` (and Deimos' `X-Deimos-Index`): the new index for a write, CUR for a read. */
  etcdIndex: number;
  /** Raft applied index and term (`X-Raft-Index`, `X-Raft-Term`). */
  raftIndex: number;
  raftTerm: number;
  /**
   * The answering member (`X-Deimos-Member`), on a watch's registration: a client that checks the
   * member holding its watch learns whether its check reached that member or, through a proxy, another.
   */
  memberId?: string;
}

/** Options of {@link writeEvent}. */
export interface WriteEventOptions extends EventHeaders {
  /** `?noValueOnSuccess=true`: set/update/create/compareAndSwap answer only `{"action":...}`. */
  noValueOnSuccess?: boolean;
  /** HEAD request: headers and status only. */
  head?: boolean;
}

/** Options of {@link writeError}. */
export interface WriteErrorOptions {
  clusterId: string;
  /** Send `X-Etcd-Index`/`X-Deimos-Index` (= the error's index); default true. */
  includeIndexHeaders?: boolean;
  /** HEAD request: headers and status only. */
  head?: boolean;
}

const JSON_TYPE = 'application/json';

/** 201 for `create` and for a `set` that replaced nothing; 200 otherwise (etcd `Event.IsCreated`). */
export function eventStatus(event: EventJSON): 200 | 201 {
  return event.action === 'create' || (event.action === 'set' && event.prevNode === undefined) ? 201 : 200;
}

/** The body etcd writes for an event, trailing newline included. */
export function renderEventBody(event: EventJSON, noValueOnSuccess = false): string {
  const a = event.action;
  if (noValueOnSuccess && (a === 'set' || a === 'update' || a === 'create' || a === 'compareAndSwap')) {
    return '{"action":"' + a + '"}\n';
  }
  return eventToGoJson(event) + '\n';
}

/** The body etcd writes for a wire error, trailing newline included. */
export function renderErrorBody(err: EtcdError): string {
  return errorToGoJson(err.toJSON()) + '\n';
}

/** Header pairs of a successful keys response (Node's cheapest `writeHead` form). */
function indexHeaders(h: EventHeaders): (string | number)[] {
  return [
    'Content-Type', JSON_TYPE,
    'X-Etcd-Cluster-Id', h.clusterId,
    'X-Etcd-Index', h.etcdIndex,
    'X-Deimos-Index', h.etcdIndex,
    'X-Raft-Index', h.raftIndex,
    'X-Raft-Term', h.raftTerm,
    ...(h.memberId !== undefined ? ['X-Deimos-Member', h.memberId] : []),
  ];
}

/**
 * A response: status, header pairs (name, value, ...) and body (none for HEAD), or a body streamed
 * after the head (no Content-Length: chunked, or closed after it for HTTP/1.0).
 */
export interface ResponseParts {
  status: number;
  headers: (string | number)[];
  body: string | undefined;
  stream?: BodyStream;
}

/** The response for a successful keys request (status per {@link eventStatus}). */
export function eventParts(event: EventJSON, options: WriteEventOptions): ResponseParts {
  const headers = indexHeaders(options);
  const status = eventStatus(event);
  if (options.head) return { status, headers, body: undefined };
  const body = renderEventBody(event, options.noValueOnSuccess);
  headers.push('Content-Length', Buffer.byteLength(body));
  return { status, headers, body };
}

/**
 * Go's response buffer: a handler's answer that fits is sent with its Content-Length, to a HEAD too
 * (the length of the body a GET gets, though none is sent); a larger one is chunked, and a HEAD
 * then carries neither.
 */
const GO_RESPONSE_BUFFER_BYTES = 2048;

/** A HEAD answer's Content-Length header pair as Go's server writes it, for the body a GET would get. */
function headLength(headers: (string | number)[], body: string | undefined): void {
  if (body === undefined || body.length > GO_RESPONSE_BUFFER_BYTES) return;
  const bytes = Buffer.byteLength(body);
  if (bytes > 0 && bytes <= GO_RESPONSE_BUFFER_BYTES) headers.push('Content-Length', bytes);
}

/**
 * The response for a successful read whose body text is already rendered (`Store.read`), or
 * streamed by `stream` (a big answer). With `head`, no body (see {@link headLength}).
 */
export function readParts(body: string | BodyStream | undefined, options: EventHeaders, head = false): ResponseParts {
  const headers = indexHeaders(options);
  if (head) {
    headLength(headers, typeof body === 'string' ? body : undefined);
    return { status: 200, headers, body: undefined };
  }
  if (body === undefined || typeof body === 'string') {
    if (body !== undefined) headers.push('Content-Length', Buffer.byteLength(body));
    return { status: 200, headers, body };
  }
  return { status: 200, headers, body: undefined, stream: body };
}

/**
 * The response for a wire error: its HTTP status, `X-Etcd-Index` = the error's index (0 for parse
 * errors, CUR for store errors), never `X-Raft-*`.
 */
export function errorParts(err: EtcdError, options: WriteErrorOptions): ResponseParts {
  const headers: (string | number)[] = ['Content-Type', JSON_TYPE, 'X-Etcd-Cluster-Id', options.clusterId];
  if (options.includeIndexHeaders ?? true) headers.push('X-Etcd-Index', err.index, 'X-Deimos-Index', err.index);
  const body = renderErrorBody(err);
  if (options.head) {
    headLength(headers, body);
    return { status: err.status, headers, body: undefined };
  }
  headers.push('Content-Length', Buffer.byteLength(body));
  return { status: err.status, headers, body };
}

/** Writes `parts` on a node:http response (with its CORS headers) and ends it. */
export function sendParts(res: ServerResponse, parts: ResponseParts): void {
  writeHeadWithCors(res, parts.status, parts.headers);
  if (parts.stream !== undefined) return parts.stream.pipe(responseSink(res));
  res.end(parts.body);
}

/** Writes a successful keys response (status per {@link eventStatus}) and ends it. */
export function writeEvent(res: ServerResponse, event: EventJSON, options: WriteEventOptions): void {
  sendParts(res, eventParts(event, options));
}

/** Writes a wire error (see {@link errorParts}) and ends the response. */
export function writeError(res: ServerResponse, err: EtcdError, options: WriteErrorOptions): void {
  sendParts(res, errorParts(err, options));
}

/**
 * Starts a watch response: 200 with the index headers (`X-Etcd-Index` = CUR when the watch was
 * registered), flushed at once; the body is chunked. Follow with each event's line (routes/watch-lines.ts).
 */
export function startWatch(res: ServerResponse, headers: EventHeaders): void {
  writeHeadWithCors(res, 200, indexHeaders(headers));
  res.flushHeaders();
}

/** The text of one watch event: its JSON and a newline. */
export function watchEventLine(event: EventJSON): string {
  return eventToGoJson(event) + '\n';
}

/** The characters Go's `html.EscapeString` (and so `http.Redirect`) replaces, and their entities. */
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/**
 * Answers a {@link Redirect} (301 with `Location`) as Go's `http.Redirect` does: to a GET a small
 * HTML body naming the target, to a HEAD its Content-Type alone, to other methods no body.
 */
export function writeRedirect(res: ServerResponse, redirect: Redirect): void {
  const method = res.req?.method;
  if (method !== 'GET' && method !== 'HEAD') {
    writeHeadWithCors(res, redirect.status, ['Location', redirect.location, 'Content-Length', 0]);
    res.end();
    return;
  }
  const href = redirect.location.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
  const body = `<a href="${href}">Moved Permanently</a>.\n\n`;
  const headers = ['Content-Type', 'text/html; charset=utf-8', 'Location', redirect.location];
  if (method === 'GET') headers.push('Content-Length', String(Buffer.byteLength(body)));
  writeHeadWithCors(res, redirect.status, headers);
  res.end(method === 'GET' ? body : undefined);
}
