/**
 * The client's errors. Wire errors (the server's `{errorCode,message,cause,index}` JSON) become
 * {@link DeimosError}; operational failures carry a stable string `code` and are told apart with
 * `instanceof` or `code`, never by message text.
 */
import { connectionErrorText } from './connection-error-text.js';

/** A server error: an etcd error JSON (or a members-API `{"message"}`) with its HTTP status. */
export class DeimosError extends Error {
  /** The etcd error code (`ErrorCode` in @deimos/protocol); 0 when the server sent no code (members API, plain-text errors). */
  readonly errorCode: number;
  /** The server's cause text (often the key), `''` when absent. */
  override readonly cause: string;
  /** The store index the server reported with the error (`X-Etcd-Index` semantics), 0 when absent. */
  readonly index: number;
  /** The HTTP status of the response. */
  readonly status: number;
  /** The endpoint that answered. */
  endpoint = '';
  /**
   * True when this answer came from a retry after an earlier attempt of the same conditional write
   * ended with an unknown outcome (timeout, reset connection, 5xx). A `101 Compare failed` or
   * `105 Key already exists` may then be caused by that earlier attempt having applied.
   */
  afterUnknownOutcome = false;

  constructor(errorCode: number, message: string, opts: { cause?: string; index?: number; status: number }) {
    super(message);
    this.name = 'DeimosError';
    this.errorCode = errorCode;
    this.cause = opts.cause ?? '';
    this.index = opts.index ?? 0;
    this.status = opts.status;
  }
}

/** A watch asked for events older than the server's history (errorCode 401): resume from a fresh read. */
export class HistoryClearedError extends DeimosError {
  constructor(message: string, opts: { cause?: string; index?: number; status: number }) {
    super(401, message, opts);
    this.name = 'HistoryClearedError';
  }
}

/** True when the failed attempt went to an https endpoint (got's errors carry the request's URL). */
export function attemptedTls(err: Error): boolean {
  const url = (err as { options?: { url?: unknown } }).options?.url;
  return url instanceof URL ? url.protocol === 'https:' : typeof url === 'string' && url.startsWith('https:');
}

/**
 * One line for an attempt's error (a hint for TLS failures of https endpoints); an error answer keeps
 * its cause (a proxy says there why no member answered).
 */
export function errorText(err: Error): string {
  if (err instanceof DeimosError) return err.cause !== '' ? `${err.message} (${err.cause})` : err.message;
  return connectionErrorText(err, attemptedTls(err));
}

/** Every endpoint failed with a connection error, a timeout or a 5xx answer; `errors` holds one per attempt. */
export class ClusterUnavailableError extends Error {
  readonly code = 'DEIMOS_CLUSTER_UNAVAILABLE';
  readonly errors: Error[];

  constructor(errors: Error[]) {
    super(`cluster is unavailable or misconfigured; ${errors.map((e, i) => `error #${i}: ${errorText(e)}`).join('; ') || 'no endpoints'}`);
    this.name = 'ClusterUnavailableError';
    this.errors = errors;
  }
}

/**
 * A write that is not safe to repeat (plain set, delete, POST, members changes) failed after it may
 * have reached a member (timeout, reset connection): it may or may not have been applied.
 */
export class OutcomeUnknownError extends Error {
  readonly code = 'DEIMOS_OUTCOME_UNKNOWN';
  readonly endpoint: string;
  readonly error: Error;

  constructor(endpoint: string, error: Error) {
    super(`request to ${endpoint} failed after it may have been applied: ${errorText(error)}`);
    this.name = 'OutcomeUnknownError';
    this.endpoint = endpoint;
    this.error = error;
  }
}

/** The client was closed; no further requests are sent. */
export class ClientClosedError extends Error {
  readonly code = 'DEIMOS_CLIENT_CLOSED';

  constructor() {
    super('the Deimos client is closed');
    this.name = 'ClientClosedError';
  }
}

/** A lock, election candidacy or registration lost its key (it expired or was deleted by someone else). */
export class KeyLostError extends Error {
  readonly code = 'DEIMOS_KEY_LOST';
  readonly key: string;

  constructor(key: string, detail: string) {
    super(`${key}: ${detail}`);
    this.name = 'KeyLostError';
    this.key = key;
  }
}

/**
 * The error a non-2xx response stands for: the etcd error JSON when the body is one, a members-API
 * `{"message"}`, or the body text otherwise.
 */
export function errorFromResponse(status: number, body: string, endpoint = ''): DeimosError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined; // plain-text bodies (404 page not found, 405) are handled below
  }
  const json = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const errorCode = typeof json['errorCode'] === 'number' ? json['errorCode'] : 0;
  const message = typeof json['message'] === 'string' ? json['message'] : (body.trim() || `HTTP ${status}`);
  const opts = {
    status,
    ...(typeof json['cause'] === 'string' ? { cause: json['cause'] } : {}),
    ...(typeof json['index'] === 'number' ? { index: json['index'] } : {}),
  };
  const err = errorCode === 401 ? new HistoryClearedError(message, opts) : new DeimosError(errorCode, message, opts);
  err.endpoint = endpoint;
  return err;
}
