/**
 * Parsing of a keys API request (`/v2/keys/...` or Deimos' `/keys/...`) into a typed request that
 * maps 1:1 onto a store operation. Follows etcd 3.4's `parseKeyRequest`: the same parameter
 * sources, Go-style value syntax, validation order, error codes and cause texts.
 */
import { EtcdError, ErrorCode, goParseBool } from '@deimos/protocol';
import { goParseMediaType } from './go-media-type.js';
import { goCleanPath, goEscapePath, goParseQuery, goUnescape, UrlEscapeError, type ParsedQuery } from './go-url.js';

/** A plain read (`GET`/`HEAD` without `wait`). */
export interface GetKeysRequest {
  kind: 'get';
  path: string;
  /** HEAD: same headers and status as GET, no body. */
  head: boolean;
  recursive: boolean;
  sorted: boolean;
  /** `quorum=true` was given; it always forces a linearizable read. */
  quorum: boolean;
  /** Answer from the local store (`serializable=true`, `consistent=false` or `quorum=false`, and no `quorum=true`). */
  serializable: boolean;
}

/** A long-poll or streaming watch (`GET ?wait=true`). */
export interface WatchKeysRequest {
  kind: 'watch';
  path: string;
  recursive: boolean;
  stream: boolean;
  /** First index to report; undefined when absent or 0 (wait for the next event). */
  waitIndex?: number;
}

/** Fields shared by the four value-writing operations. */
interface ValueWrite {
  path: string;
  /** `""` when absent, for a refresh, or for a directory. */
  value: string;
  /** Seconds to live; undefined for a permanent node (absent or `ttl=`). */
  ttlSeconds?: number;
  /** Keep the current value, only reset the TTL; a refresh does not wake watchers. */
  refresh: boolean;
  /** Answer a success with only `{"action":...}`. */
  noValueOnSuccess: boolean;
  /** `recursive=true` was given: no effect on the write, but etcd checks permissions recursively. */
  recursiveParam: boolean;
}

/** PUT without conditions: create or replace (also `dir=true`). */
export interface SetKeysRequest extends ValueWrite {
  kind: 'set';
  dir: boolean;
}

/** PUT `prevExist=false` (unique=false) or POST (unique=true: the child is named by the new index). */
export interface CreateKeysRequest extends ValueWrite {
  kind: 'create';
  dir: boolean;
  unique: boolean;
}

/** PUT `prevExist=true` without `prevValue`/`prevIndex`. */
export interface UpdateKeysRequest extends ValueWrite {
  kind: 'update';
}

/** PUT with `prevValue` and/or `prevIndex > 0` (at least one is set); `prevIndexText` as in the replicated request. */
export interface CompareAndSwapKeysRequest extends ValueWrite {
  kind: 'compareAndSwap';
  prevValue?: string;
  prevIndex?: number;
  prevIndexText?: string;
}

/** DELETE without conditions; `recursive` implies `dir` in the store. */
export interface DeleteKeysRequest {
  kind: 'delete';
  path: string;
  dir: boolean;
  recursive: boolean;
}

/** DELETE with `prevValue` and/or `prevIndex > 0` (at least one is set). */
export interface CompareAndDeleteKeysRequest {
  kind: 'compareAndDelete';
  path: string;
  /** As in {@link ValueWrite}. */
  recursiveParam: boolean;
  prevValue?: string;
  prevIndex?: number;
  prevIndexText?: string;
}

/** A parsed keys request; `kind` names the store operation (or read) to run. */
export type KeysRequest =
  | GetKeysRequest
  | WatchKeysRequest
  | SetKeysRequest
  | CreateKeysRequest
  | UpdateKeysRequest
  | CompareAndSwapKeysRequest
  | DeleteKeysRequest
  | CompareAndDeleteKeysRequest;

/** A non-canonical request path: answer 301 with this `Location` (Go `ServeMux` behaviour). */
export interface Redirect {
  kind: 'redirect';
  status: 301;
  location: string;
}

/** What {@link parseKeysRequest} reads from the HTTP request. */
export interface KeysRequestInput {
  method: string;
  /** The request target as received (`req.url`): path and optional query. */
  rawUrl: string;
  /** The request body, if one was read (only form bodies of PUT, POST and DELETE are used). */
  body: Buffer | undefined;
  contentType: string | undefined;
}

/** Limits for {@link parseKeysRequest}. */
export interface KeysRequestOptions {
  /** Longest accepted key in UTF-8 bytes after decoding; default {@link DEFAULT_MAX_KEY_BYTES}. */
  maxKeyBytes?: number;
}

/**
 * Default key size limit. etcd resets the connection when the request line passes 4096 bytes
 * (keys of about 4070 characters); Deimos answers cleanly instead, and allows twice that.
 */
export const DEFAULT_MAX_KEY_BYTES = 8192;

/** The methods the keys endpoint serves (order as etcd prints them in `Allow`). */
export const KEYS_METHODS = ['HEAD', 'GET', 'PUT', 'POST', 'DELETE'] as const;

const PREFIXES = ['/v2/keys', '/keys'];

/** Splits a request target into its raw path and raw query (without the `?`). */
export function splitRawUrl(rawUrl: string): { rawPath: string; rawQuery: string } {
  const q = rawUrl.indexOf('?');
  if (q === -1) return { rawPath: rawUrl, rawQuery: '' };
  return { rawPath: rawUrl.slice(0, q), rawQuery: rawUrl.slice(q + 1) };
}

/**
 * The 301 Go's `ServeMux` answers for a path with `//`, `.` or `..` segments (checked on the
 * decoded path, so `%2F%2F` counts), or null when the path is canonical. Applies to every route;
 * the query is kept. A malformed escape yields null (the parser reports it).
 */
export function redirectFor(rawUrl: string): Redirect | null {
  const { rawPath, rawQuery } = splitRawUrl(rawUrl);
  let decoded: string;
  try {
    decoded = goUnescape(rawPath, 'path');
  } catch (e) {
    if (e instanceof UrlEscapeError) return null;
    throw e;
  }
  const cleaned = goCleanPath(decoded);
  if (cleaned === decoded) return null;
  const location = goEscapePath(cleaned) + (rawQuery === '' ? '' : '?' + rawQuery);
  return { kind: 'redirect', status: 301, location };
}

/**
 * The store key addressed by a keys API path (`/v2/keys`, `/v2/keys/a/b/`, `/keys/a`), or null if
 * the path is not a keys path (`/v2/keysfoo`). The path is percent-decoded first (`%2F` splits
 * keys); the key has a leading `/` and no trailing `/`; the root is `/`. Does not redirect:
 * call {@link redirectFor} first. Throws EtcdError 210 for a malformed escape.
 */
export function matchKeysPath(rawPathname: string): string | null {
  const decoded = decodeOrThrow(rawPathname, 'path');
  for (const prefix of PREFIXES) {
    if (!decoded.startsWith(prefix)) continue;
    const rest = decoded.slice(prefix.length);
    if (rest === '' || rest === '/') return '/';
    if (rest.charCodeAt(0) !== 0x2f) return null;
    const key = goCleanPath(rest);
    return key.length > 1 && key.endsWith('/') ? key.slice(0, -1) : key;
  }
  return null;
}

/**
 * Parses a keys API request. Returns a {@link Redirect} for a non-canonical path; throws EtcdError
 * (index 0) for invalid input: 210 for a bad escape in the path or a non-keys path, 209 `key too
 * long` past `maxKeyBytes`, then etcd's order: form decode (210), prevIndex, waitIndex (203),
 * recursive, sorted, wait, dir, quorum, stream, consistent, serializable (209), wait on non-GET
 * (209), empty prevValue (201), noValueOnSuccess (209), ttl (202), prevExist (209), refresh (209),
 * refresh with value (211), refresh without ttl (212). Form bodies are read for PUT, POST and
 * DELETE. The method must already be one of {@link KEYS_METHODS} (see `allowMethod`).
 */
export function parseKeysRequest(input: KeysRequestInput, options: KeysRequestOptions = {}): KeysRequest | Redirect {
  const method = input.method;
  if (!(KEYS_METHODS as readonly string[]).includes(method)) {
    throw new RangeError(`parseKeysRequest: method ${method} must be rejected with 405 first`);
  }
  const redirect = redirectFor(input.rawUrl);
  if (redirect) return redirect;
  const { rawPath, rawQuery } = splitRawUrl(input.rawUrl);
  const path = matchKeysPath(rawPath);
  if (path === null) throw new EtcdError(ErrorCode.InvalidForm, 'incorrect key prefix');
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  if (path.length > maxKeyBytes / 3 && Buffer.byteLength(path) > maxKeyBytes) {
    throw new EtcdError(ErrorCode.InvalidField, 'key too long');
  }
  const form = new Form(parseForm(method, rawQuery, input.body, input.contentType));
  return buildRequest(method, path, form);
}

/**
 * Body first, then the query: the first value of a name is the body's when both have it. A PUT or
 * POST has its Content-Type checked as Go's net/http does before anything else (none counts as
 * `application/octet-stream`), whether or not there is a body; a DELETE's form body is read only
 * under a well-formed form type (it is not read at all by Go: see the README's differences).
 */
function parseForm(method: string, rawQuery: string, body: Buffer | undefined, contentType: string | undefined): ParsedQuery {
  const parsed: ParsedQuery = { values: new Map() };
  let isForm = false;
  if (method === 'PUT' || method === 'POST') {
    const media = goParseMediaType(contentType || 'application/octet-stream');
    if (media.error !== undefined) throw new EtcdError(ErrorCode.InvalidForm, media.error);
    isForm = media.mediaType === FORM_TYPE;
  } else if (method === 'DELETE' && contentType !== undefined) {
    const media = goParseMediaType(contentType);
    isForm = media.error === undefined && media.mediaType === FORM_TYPE;
  }
  if (isForm && body !== undefined && body.length > 0) goParseQuery(body.toString('utf8'), parsed);
  const bodyError = parsed.error;
  goParseQuery(rawQuery, parsed);
  const error = bodyError ?? parsed.error;
  if (error !== undefined) throw new EtcdError(ErrorCode.InvalidForm, error);
  return parsed;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

function decodeOrThrow(s: string, mode: 'path' | 'query'): string {
  try {
    return goUnescape(s, mode);
  } catch (e) {
    if (e instanceof UrlEscapeError) throw new EtcdError(ErrorCode.InvalidForm, e.message);
    throw e;
  }
}

const UINT64_MAX = 18446744073709551615n;

/** Typed access to the merged form, with Go's `strconv` syntax. */
class Form {
  constructor(private readonly parsed: ParsedQuery) {}

  has(name: string): boolean {
    return this.parsed.values.has(name);
  }

  /** First value (Go `FormValue`), `""` when absent. */
  string(name: string): string {
    return this.parsed.values.get(name)?.[0] ?? '';
  }

  /** Go `strconv.ParseBool`; undefined when absent; throws 209 with `cause` when malformed. */
  bool(name: string, cause?: string): boolean | undefined {
    const raw = this.parsed.values.get(name)?.[0];
    if (raw === undefined) return undefined;
    const value = goParseBool(raw);
    if (value !== undefined) return value;
    throw new EtcdError(ErrorCode.InvalidField, cause ?? `invalid value for "${name}"`);
  }

  /**
   * Go `strconv.ParseUint(s, 10, 64)`: digits only, at most 2^64-1. Values above 2^53 lose precision
   * (harmless: no store index gets there). Undefined when absent; throws `code` when malformed.
   */
  uint(name: string, code: ErrorCode): number | undefined {
    const raw = this.parsed.values.get(name)?.[0];
    if (raw === undefined) return undefined;
    if (!/^[0-9]+$/.test(raw) || (raw.length > 19 && BigInt(raw) > UINT64_MAX)) {
      throw new EtcdError(code, `invalid value for "${name}"`);
    }
    return Number(raw);
  }
}

/**
 * The largest TTL replicated: etcd takes any uint64 TTL and answers 201, and so does Deimos, but a
 * larger one is clamped to this so that every replicated TTL is a safe integer. Any TTL that ends
 * after 2262 (the last expiration etcd can hold) makes a permanent key in the store, as on etcd.
 */
export const MAX_TTL_SECONDS = 8_640_000_000_000;

function clampTtl(ttlSeconds: number | undefined): number | undefined {
  return ttlSeconds === undefined ? undefined : Math.min(ttlSeconds, MAX_TTL_SECONDS);
}

interface Flags {
  recursive: boolean;
  sorted: boolean;
  wait: boolean;
  dir: boolean;
  quorum: boolean;
  stream: boolean;
  serializable: boolean;
}

/** The boolean group, in etcd's order; `consistent`/`serializable` are Deimos additions checked last. */
function parseFlags(form: Form): Flags {
  const recursive = form.bool('recursive') ?? false;
  const sorted = form.bool('sorted') ?? false;
  const wait = form.bool('wait') ?? false;
  const dir = form.bool('dir') ?? false;
  const quorumParam = form.bool('quorum');
  const quorum = quorumParam ?? false;
  const stream = form.bool('stream') ?? false;
  const consistent = form.bool('consistent');
  const serializableParam = form.bool('serializable');
  // A read is linearizable unless it asks otherwise: `serializable=true`, `consistent=false`, or an
  // explicit `quorum=false`, which etcd's clients send for a plain read (etcdctl's `get` and `ls`
  // always do) and etcd answers from the member's own store, with or without a quorum. An explicit
  // `serializable=false` or `consistent=true` keeps the read linearizable.
  const local = consistent === false || serializableParam === true
    || (quorumParam === false && serializableParam !== false && consistent !== true);
  const serializable = !quorum && local;
  return { recursive, sorted, wait, dir, quorum, stream, serializable };
}

/** Every parameter, validated in etcd's order (first failure wins). */
interface Params extends Flags {
  prevIndex: number;
  /** The exact digits of a prevIndex past 2^53 (see {@link Form.uint}), else undefined. */
  prevIndexText: string | undefined;
  waitIndex: number;
  prevValue: string;
  noValueOnSuccess: boolean;
  ttlSeconds: number | undefined;
  prevExist: boolean | undefined;
  refresh: boolean;
  value: string;
}

function parseParams(method: string, form: Form): Params {
  const prevIndex = form.uint('prevIndex', ErrorCode.IndexNaN) ?? 0;
  // etcd's cause prints a failed prevIndex as parsed (uint64); past 2^53 a number cannot.
  const prevIndexText = prevIndex > Number.MAX_SAFE_INTEGER ? BigInt(form.string('prevIndex')).toString() : undefined;
  const waitIndex = form.uint('waitIndex', ErrorCode.IndexNaN) ?? 0;
  const flags = parseFlags(form);
  if (flags.wait && method !== 'GET') {
    throw new EtcdError(ErrorCode.InvalidField, '"wait" can only be used with GET requests');
  }
  const prevValue = form.string('prevValue');
  if (form.has('prevValue') && prevValue === '') {
    throw new EtcdError(ErrorCode.PrevValueRequired, '"prevValue" cannot be empty');
  }
  const noValueOnSuccess = form.bool('noValueOnSuccess') ?? false;
  const ttlSeconds = clampTtl(form.string('ttl') === '' ? undefined : form.uint('ttl', ErrorCode.TTLNaN));
  // Deimos spelled it `prevExists`; etcd's spelling wins when both are given.
  const prevExist = form.bool(form.has('prevExist') ? 'prevExist' : 'prevExists', 'invalid value for prevExist');
  const refresh = form.bool('refresh', 'invalid value for refresh') ?? false;
  const value = form.string('value');
  if (refresh && value !== '') {
    throw new EtcdError(ErrorCode.RefreshValue, 'A value was provided on a refresh');
  }
  if (refresh && ttlSeconds === undefined) {
    throw new EtcdError(ErrorCode.RefreshTTLRequired, 'No TTL value set');
  }
  // Spelled out: an object spread here was the parser's hottest line (V8 takes a slow path).
  return {
    recursive: flags.recursive, sorted: flags.sorted, wait: flags.wait, dir: flags.dir, quorum: flags.quorum,
    stream: flags.stream, serializable: flags.serializable,
    prevIndex, prevIndexText, waitIndex, prevValue, noValueOnSuccess, ttlSeconds, prevExist, refresh, value,
  };
}

/**
 * Whether permissions are checked for the whole subtree: etcd's hasKeyPrefixAccess takes the
 * request's `recursive` whatever the method, so `PUT ...?recursive=true` needs recursive access too.
 */
export function checksRecursively(r: KeysRequest): boolean {
  return 'recursive' in r ? r.recursive : r.recursiveParam;
}

function buildRequest(method: string, path: string, form: Form): KeysRequest {
  const p = parseParams(method, form);
  if (method === 'GET' || method === 'HEAD') {
    // etcd turns a quorum GET into a read through raft before it looks at `wait`: no watch.
    if (p.wait && !p.quorum) {
      return { kind: 'watch', path, recursive: p.recursive, stream: p.stream, ...(p.waitIndex > 0 ? { waitIndex: p.waitIndex } : {}) };
    }
    return {
      kind: 'get', path, head: method === 'HEAD', recursive: p.recursive, sorted: p.sorted,
      quorum: p.quorum, serializable: p.serializable,
    };
  }
  const conditions = {
    ...(p.prevValue !== '' ? { prevValue: p.prevValue } : {}),
    ...(p.prevIndex > 0 ? { prevIndex: p.prevIndex } : {}),
    ...(p.prevIndexText !== undefined ? { prevIndexText: p.prevIndexText } : {}),
  };
  const hasConditions = p.prevValue !== '' || p.prevIndex > 0;
  if (method === 'DELETE') {
    if (hasConditions) return { kind: 'compareAndDelete', path, recursiveParam: p.recursive, ...conditions };
    return { kind: 'delete', path, dir: p.dir, recursive: p.recursive };
  }
  const write = {
    path,
    ...(p.ttlSeconds !== undefined ? { ttlSeconds: p.ttlSeconds } : {}),
    refresh: p.refresh,
    noValueOnSuccess: p.noValueOnSuccess,
    recursiveParam: p.recursive,
  };
  // A directory has no value; update and compareAndSwap ignore `dir` and set the given value.
  const dirValue = p.dir ? '' : p.value;
  // etcd's PUT dispatch (`applierV2store.Put`); POST is always a unique create.
  if (method === 'POST') return { kind: 'create', ...write, value: dirValue, dir: p.dir, unique: true };
  if (p.prevExist === false) return { kind: 'create', ...write, value: dirValue, dir: p.dir, unique: false };
  if (hasConditions) return { kind: 'compareAndSwap', ...write, value: p.value, ...conditions };
  if (p.prevExist === true) return { kind: 'update', ...write, value: p.value };
  return { kind: 'set', ...write, value: dirValue, dir: p.dir };
}
