/**
 * Pure builders of keys-API requests: the path of a key and, per operation, the method, query,
 * form body and retry safety (etcdctl's split: conditions in the query, value and ttl in the body).
 */
import { MAX_TIMER_MS } from '@deimos/protocol';
import type { HttpRequest } from './request.js';

/** Options of `get`. */
export interface GetOptions {
  recursive?: boolean;
  sorted?: boolean;
  /** Force the read through raft (it is linearizable by default on Deimos anyway). */
  quorum?: boolean;
  /** Answer from the member's local store, possibly stale. */
  serializable?: boolean;
}

/** Options of `set` (PUT). */
export interface SetOptions {
  /** Seconds to live; absent makes the key permanent (a set drops an existing TTL). */
  ttl?: number;
  prevValue?: string;
  prevIndex?: number;
  prevExist?: boolean;
  /** Reset the TTL without changing the value or waking watchers (`value` must be empty). */
  refresh?: boolean;
  noValueOnSuccess?: boolean;
  /** Write a directory (no value). */
  dir?: boolean;
}

/** Options of `delete`. */
export interface DeleteOptions {
  dir?: boolean;
  recursive?: boolean;
  prevValue?: string;
  prevIndex?: number;
}

/** A keys request without transport-level fields. */
export type KeysRequest = Pick<HttpRequest, 'method' | 'path' | 'query' | 'form' | 'safety' | 'timeoutMs'>;

/**
 * The encoded request path of `key` under `prefix`: a leading `/` added, repeated slashes collapsed
 * (etcd answers `//` with a redirect), each segment percent-encoded.
 */
export function keyPath(prefix: string, key: string): string {
  if (typeof key !== 'string') throw new TypeError(`a key must be a string, got ${typeof key}`);
  const segments = key.split('/').filter((s) => s !== '');
  // URL parsing resolves `.` and `..` (percent-encoding leaves them alone): `/services/../other`
  // wrote /other and `/x/zz/..` deleted all of /x. No etcd key has such a segment (etcd cleans them).
  if (segments.some((s) => s === '.' || s === '..')) throw new TypeError(`key ${JSON.stringify(key)} has a "." or ".." segment, which no key can have`);
  return `${prefix}/${segments.map(encodeURIComponent).join('/')}`;
}

/** GET key. */
export function getRequest(prefix: string, key: string, opts: GetOptions = {}): KeysRequest {
  const query: Record<string, string> = {};
  flag(query, 'recursive', opts.recursive);
  flag(query, 'sorted', opts.sorted);
  flag(query, 'quorum', opts.quorum);
  flag(query, 'serializable', opts.serializable);
  return { method: 'GET', path: keyPath(prefix, key), query, safety: 'read' };
}

/** PUT key (set, create, update, compareAndSwap, refresh, directories). */
export function setRequest(prefix: string, key: string, value: string | undefined, opts: SetOptions = {}): KeysRequest {
  const query: Record<string, string> = {};
  const form: Record<string, string> = {};
  flag(query, 'dir', opts.dir);
  if (opts.prevExist !== undefined) query['prevExist'] = String(opts.prevExist);
  if (opts.prevValue !== undefined) query['prevValue'] = opts.prevValue;
  if (opts.prevIndex !== undefined && opts.prevIndex > 0) query['prevIndex'] = String(opts.prevIndex);
  flag(query, 'refresh', opts.refresh);
  flag(query, 'noValueOnSuccess', opts.noValueOnSuccess);
  if (value !== undefined && !opts.dir && !opts.refresh) form['value'] = valueText(value);
  if (opts.ttl !== undefined) form['ttl'] = String(ttlSeconds(opts.ttl));
  return { method: 'PUT', path: keyPath(prefix, key), query, form, safety: putSafety(opts) };
}

/** POST dir: an in-order key named by the new index. */
export function createInOrderRequest(prefix: string, dirKey: string, value: string, opts: { ttl?: number } = {}): KeysRequest {
  const form: Record<string, string> = { value: valueText(value) };
  if (opts.ttl !== undefined) form['ttl'] = String(ttlSeconds(opts.ttl));
  return { method: 'POST', path: keyPath(prefix, dirKey), query: {}, form, safety: 'unsafe' };
}

/** DELETE key (delete, compareAndDelete). */
export function deleteRequest(prefix: string, key: string, opts: DeleteOptions = {}): KeysRequest {
  const query: Record<string, string> = {};
  flag(query, 'dir', opts.dir);
  flag(query, 'recursive', opts.recursive);
  if (opts.prevValue !== undefined) query['prevValue'] = opts.prevValue;
  if (opts.prevIndex !== undefined && opts.prevIndex > 0) query['prevIndex'] = String(opts.prevIndex);
  const conditional = opts.prevValue !== undefined || (opts.prevIndex ?? 0) > 0;
  return { method: 'DELETE', path: keyPath(prefix, key), query, safety: conditional ? 'conditional' : 'unsafe' };
}

/** GET key?wait=true: a long-poll watch from `waitIndex` (the next event when absent). */
export function watchRequest(prefix: string, key: string, opts: { recursive?: boolean; waitIndex?: number }): KeysRequest {
  const query: Record<string, string> = { wait: 'true' };
  flag(query, 'recursive', opts.recursive);
  if (opts.waitIndex !== undefined && opts.waitIndex > 0) query['waitIndex'] = String(opts.waitIndex);
  return { method: 'GET', path: keyPath(prefix, key), query, safety: 'read' };
}

/**
 * Which PUTs may be retried: a create (prevExist=false) and a compare (prevValue/prevIndex) cannot
 * apply twice, and a TTL refresh of an existing key applied twice changes nothing visible; a plain
 * set or an update could apply twice (two events, a value written over a newer one).
 */
function putSafety(opts: SetOptions): KeysRequest['safety'] {
  if (opts.prevExist === false) return 'conditional';
  if (opts.prevValue !== undefined || (opts.prevIndex ?? 0) > 0) return 'conditional';
  if (opts.refresh && opts.prevExist === true) return 'conditional';
  return 'unsafe';
}

function flag(query: Record<string, string>, name: string, value: boolean | undefined): void {
  if (value) query[name] = 'true';
}

/**
 * A value as it is sent: a string, or a finite number or boolean written out; anything else (null,
 * an object) is refused rather than stored as "null" or "[object Object]".
 */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  throw new TypeError(`a value must be a string, got ${value === null ? 'null' : typeof value}`);
}

function ttlSeconds(ttl: number): number {
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0) throw new RangeError(`ttl must be a whole number of seconds >= 0, got ${JSON.stringify(ttl) ?? String(ttl)}`);
  return ttl;
}

/**
 * The TTL of a key kept alive by heartbeats (locks, elections, service instances): at least 1 s,
 * as each beat runs every ttl/3 (a TTL of 0 expired at once and was written again every
 * millisecond), and within a timer's range.
 */
export function keepAliveTtl(ttl: number): number {
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_KEEP_ALIVE_TTL_S) {
    throw new RangeError(`ttl of a kept-alive key must be a whole number of seconds from 1 to ${MAX_KEEP_ALIVE_TTL_S}, got ${JSON.stringify(ttl) ?? String(ttl)}`);
  }
  return ttl;
}

/** The longest kept-alive TTL: a heartbeat every ttl/3 stays within a timer's range (2^31-1 ms). */
const MAX_KEEP_ALIVE_TTL_S = Math.floor((MAX_TIMER_MS * 3) / 1000);
