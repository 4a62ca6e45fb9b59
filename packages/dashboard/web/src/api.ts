/**
 * The dashboard's calls to the API of the member (or deimos-proxy) that served the page: same
 * origin only (the Content-Security-Policy allows nothing else). Every request carries
 * `X-Deimos-Dashboard: 1`, a header a cross-site form cannot send, and Basic credentials once the
 * user gave them.
 */
import type { DashboardMemberStatus, EventJSON, MemberJSON, NodeJSON } from '@deimos/protocol';

export type { EventJSON, MemberJSON, NodeJSON };

/** An etcd error answer (`errorCode`, `message`, `cause`, `index`) or a transport failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    message: string,
    readonly causeText?: string,
    readonly index?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** etcd's error codes the page reacts to. */
export const TEST_FAILED = 101;
export const KEY_NOT_FOUND = 100;
export const EVENT_INDEX_CLEARED = 401;
export const UNAUTHORIZED = 110;

let credentials: string | undefined;

/** Sets (or clears) the Basic credentials sent from now on. */
export function setCredentials(user: string | undefined, password = ''): void {
  credentials = user === undefined ? undefined : `Basic ${btoa(unescape(encodeURIComponent(`${user}:${password}`)))}`;
}

/** Whether credentials were given. */
export function hasCredentials(): boolean {
  return credentials !== undefined;
}

/** An answer: parsed JSON body and the X-Etcd-Index header. */
export interface ApiAnswer<T> {
  body: T;
  etcdIndex: number;
  status: number;
}

function send(method: string, url: string, opts: { form?: Record<string, string>; signal?: AbortSignal }): Promise<Response> {
  const headers: Record<string, string> = { 'X-Deimos-Dashboard': '1' };
  if (credentials !== undefined) headers.Authorization = credentials;
  let body: string | undefined;
  if (opts.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  return fetch(url, { method, headers, body, signal: opts.signal, cache: 'no-store', credentials: 'omit' });
}

function parsed(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(res: Response, text: string): ApiError {
  const e = (parsed(text) ?? {}) as { errorCode?: number; message?: string; cause?: string; index?: number };
  return new ApiError(res.status, e.errorCode, e.message ?? (text.trim() || res.statusText), e.cause, e.index);
}

/** Sends one request; non-2xx answers throw {@link ApiError}. */
export async function request<T>(method: string, url: string, opts: { form?: Record<string, string>; signal?: AbortSignal } = {}): Promise<ApiAnswer<T>> {
  const res = await send(method, url, opts);
  const text = await res.text();
  const etcdIndex = Number(res.headers.get('X-Etcd-Index') ?? '0');
  if (!res.ok) throw errorOf(res, text);
  return { body: (parsed(text) ?? text) as T, etcdIndex, status: res.status };
}

/**
 * Every event on `path` from `waitIndex` on, over one streamed watch (`stream=true`: the member
 * sends the history's events and then each new one as it happens, a JSON object a line) instead
 * of a request per event, which fell far behind a busy keyspace. Ends when the server ends the
 * stream; an error answer throws {@link ApiError}.
 */
export async function* watchStream(path: string, waitIndex: number, opts: { recursive?: boolean; signal?: AbortSignal; onOpen?: () => void } = {}): AsyncGenerator<EventJSON> {
  const res = await send('GET', keysUrl(path, { wait: true, recursive: opts.recursive, stream: true, waitIndex }), { signal: opts.signal });
  if (!res.ok || res.body === null) throw errorOf(res, await res.text());
  opts.onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, end).trim();
        buffered = buffered.slice(end + 1);
        if (line === '') continue;
        const event = parsed(line) as (EventJSON & { errorCode?: number; message?: string; cause?: string; index?: number }) | undefined;
        if (event === undefined) continue;
        // An error after the head (the watcher was dropped): etcd's error object in the stream.
        if (event.errorCode !== undefined) throw new ApiError(res.status, event.errorCode, event.message ?? 'watch failed', event.cause, event.index);
        yield event;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** `/v2/keys` URL of a key path with query parameters. */
export function keysUrl(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
  const encoded = path.split('/').map((s) => encodeURIComponent(s)).join('/');
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== false) params.set(k, String(v));
  const q = params.toString();
  return `/v2/keys${encoded.startsWith('/') ? '' : '/'}${encoded}${q === '' ? '' : `?${q}`}`;
}

/** GET of a key or directory (one level, sorted). */
export function getKey(path: string, signal?: AbortSignal): Promise<ApiAnswer<EventJSON>> {
  return request<EventJSON>('GET', keysUrl(path, { sorted: true }), { signal });
}

/** One event from the history or the future: a watch with `waitIndex`. */
export function watchOnce(path: string, waitIndex: number, opts: { recursive?: boolean; signal?: AbortSignal } = {}): Promise<ApiAnswer<EventJSON>> {
  return request<EventJSON>('GET', keysUrl(path, { wait: true, recursive: opts.recursive, waitIndex }), { signal: opts.signal });
}

/** PUT of a key (or directory) with form fields (value, ttl, prevIndex, prevExist, dir). */
export function putKey(path: string, form: Record<string, string>): Promise<ApiAnswer<EventJSON>> {
  return request<EventJSON>('PUT', keysUrl(path), { form });
}

/** DELETE of a key or directory with query fields (prevIndex, dir, recursive). */
export function deleteKey(path: string, query: Record<string, string | number | boolean | undefined>): Promise<ApiAnswer<EventJSON>> {
  return request<EventJSON>('DELETE', keysUrl(path, query));
}

/** Whether auth is enabled (`GET /v2/auth/enable`); false where the endpoint is missing. */
export async function authEnabled(): Promise<boolean> {
  try {
    const r = await request<{ enabled?: boolean }>('GET', '/v2/auth/enable');
    return r.body.enabled === true;
  } catch {
    return false;
  }
}

/** One member as `/dashboard/api/cluster` reports it. */
export type MemberStatus = DashboardMemberStatus;

/** `GET /dashboard/api/cluster`: every member's state, gathered by the serving member. */
export interface ClusterStatus {
  servedBy: string;
  leaderId: string;
  members: MemberStatus[];
}

/** The cluster's state. */
export async function clusterStatus(signal?: AbortSignal): Promise<ClusterStatus> {
  return (await request<ClusterStatus>('GET', '/dashboard/api/cluster', { signal })).body;
}

/** The serving member's `/metrics` text. */
export async function metricsText(signal?: AbortSignal): Promise<string> {
  return (await request<string>('GET', '/metrics', { signal })).body;
}

/** A short, human message for a failed call. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const parts = [err.message];
    if (err.causeText) parts.push(`(${err.causeText})`);
    if (err.errorCode !== undefined) parts.push(`[etcd error ${err.errorCode}]`);
    return parts.join(' ');
  }
  return err instanceof Error ? err.message : String(err);
}
