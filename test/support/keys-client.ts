/**
 * A thin keys-API client for e2e tests (raw HTTP through `http()`), and the assertions shared by the
 * keys tests: success headers, error bodies, store index.
 */
import assert from 'node:assert/strict';
import { http, type TestResponse } from './http.js';
import { IS_EXTERNAL } from './keys-target.js';

/** Query parameters: a record (URL-encoded) or a raw query string (sent as is, without `?`). */
export type Query = Record<string, string> | string;

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
  return qs === '' ? '' : `?${qs}`;
}

/** Requests against one path family (`/v2/keys` or `/keys`) of one server. */
export class KeysClient {
  constructor(
    readonly baseUrl: string,
    readonly prefix: '/v2/keys' | '/keys' = '/v2/keys',
  ) {}

  /** The full URL of `key` (a path starting with `/`, used raw) with `query`. */
  url(key: string, query?: Query): string {
    return `${this.baseUrl}${this.prefix}${key}${queryString(query)}`;
  }

  get(key: string, query?: Query): Promise<TestResponse> {
    return http('GET', this.url(key, query));
  }

  head(key: string, query?: Query): Promise<TestResponse> {
    return http('HEAD', this.url(key, query));
  }

  /** PUT with parameters in the query string and, optionally, a form body. */
  put(key: string, query?: Query, form?: Record<string, string>): Promise<TestResponse> {
    return http('PUT', this.url(key, query), form ? { form } : {});
  }

  /** PUT `value` (form body) with other parameters in the query string. */
  set(key: string, value: string, query?: Query): Promise<TestResponse> {
    return http('PUT', this.url(key, query), { form: { value } });
  }

  post(key: string, query?: Query, form?: Record<string, string>): Promise<TestResponse> {
    return http('POST', this.url(key, query), form ? { form } : {});
  }

  delete(key: string, query?: Query): Promise<TestResponse> {
    return http('DELETE', this.url(key, query));
  }

  /** The current store index (X-Etcd-Index of a GET of the root). */
  async index(): Promise<number> {
    const res = await this.get('/');
    assert.equal(res.status, 200, res.body);
    return Number(res.headers['x-etcd-index']);
  }
}

/** A header's single value. */
export function header(res: TestResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Asserts the headers of a successful keys response: JSON, cluster id, X-Etcd-Index (equal to
 * `index` when given), X-Raft-Index/Term, and (Deimos) X-Deimos-Index equal to X-Etcd-Index.
 */
export function assertSuccessHeaders(res: TestResponse, index?: number): void {
  assert.equal(header(res, 'content-type'), 'application/json', 'Content-Type');
  assert.match(header(res, 'x-etcd-cluster-id') ?? '', /^[0-9a-f]+$/, 'X-Etcd-Cluster-Id is lowercase hex');
  const etcdIndex = header(res, 'x-etcd-index');
  assert.match(etcdIndex ?? '', /^\d+$/, 'X-Etcd-Index');
  if (index !== undefined) assert.equal(Number(etcdIndex), index, 'X-Etcd-Index');
  assert.match(header(res, 'x-raft-index') ?? '', /^\d+$/, 'X-Raft-Index present on success');
  assert.match(header(res, 'x-raft-term') ?? '', /^\d+$/, 'X-Raft-Term present on success');
  if (!IS_EXTERNAL) assert.equal(header(res, 'x-deimos-index'), etcdIndex, 'X-Deimos-Index equals X-Etcd-Index');
}

/** What an error response must carry. */
export interface ExpectedError {
  status: number;
  errorCode: number;
  message?: string;
  /** Exact cause; `null` = no cause field. */
  cause?: string | null;
  /** Body `index` and X-Etcd-Index; parse errors use 0. */
  index?: number;
}

/**
 * Asserts a keys error: status, a clean JSON body ending in "\n" (`errorCode`, `message`, `cause`,
 * `index` in that order), X-Etcd-Index equal to the body index, JSON content type, cluster id, and no
 * X-Raft-* headers. Returns the parsed body.
 */
export function assertKeysError(res: TestResponse, expected: ExpectedError): { errorCode: number; message: string; cause?: string; index: number } {
  assert.equal(res.status, expected.status, `status of ${res.body}`);
  assert.ok(res.body.endsWith('\n'), `error body ends with a newline: ${JSON.stringify(res.body)}`);
  let body: { errorCode: number; message: string; cause?: string; index: number };
  try {
    body = JSON.parse(res.body);
  } catch (err) {
    assert.fail(`error body is not clean JSON (${(err as Error).message}): ${JSON.stringify(res.body)}`);
  }
  assert.deepEqual(Object.keys(body).filter((k) => k !== 'cause'), ['errorCode', 'message', 'index'], `error fields of ${res.body}`);
  assert.equal(body.errorCode, expected.errorCode, `errorCode of ${res.body}`);
  if (expected.message !== undefined) assert.equal(body.message, expected.message, 'message');
  if (expected.cause === null) assert.equal(body.cause, undefined, 'no cause');
  else if (expected.cause !== undefined) assert.equal(body.cause, expected.cause, 'cause');
  if (expected.index !== undefined) assert.equal(body.index, expected.index, 'body index');
  assert.equal(header(res, 'x-etcd-index'), String(body.index), 'X-Etcd-Index equals the body index');
  if (!IS_EXTERNAL) assert.equal(header(res, 'x-deimos-index'), String(body.index), 'X-Deimos-Index equals the body index');
  assert.equal(header(res, 'content-type'), 'application/json', 'Content-Type of an error');
  assert.match(header(res, 'x-etcd-cluster-id') ?? '', /^[0-9a-f]+$/, 'X-Etcd-Cluster-Id on an error');
  assert.equal(header(res, 'x-raft-index'), undefined, 'no X-Raft-Index on an error');
  assert.equal(header(res, 'x-raft-term'), undefined, 'no X-Raft-Term on an error');
  return body;
}

/** The messages of etcd's v2 error codes. */
export const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  104: 'Not a directory',
  105: 'Key already exists',
  107: 'Root is read only',
  108: 'Directory not empty',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  401: 'The event in requested index is outdated and cleared',
};

/** Parses the body as JSON (clean JSON ending in "\n"), failing with the body text otherwise. */
export function parseJsonBody(res: TestResponse): any {
  assert.ok(res.body.endsWith('\n'), `keys body ends with a newline: ${JSON.stringify(res.body.slice(-80))}`);
  try {
    return JSON.parse(res.body);
  } catch (err) {
    assert.fail(`body is not JSON (${(err as Error).message}): ${JSON.stringify(res.body.slice(0, 500))}`);
  }
}

/** An RFC3339 UTC timestamp with optional fraction whose trailing zeros are trimmed. */
export const EXPIRATION_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;
