/**
 * Watches as long polls (`GET ?wait=true`): one event per request, resumed with
 * `waitIndex = last modifiedIndex + 1` on the same or another member, so that no event is missed or
 * delivered twice across disconnects and failover.
 */
import { watchRequest } from './keys-options.js';
import { keysResponse, type KeysResponse } from './keys-response.js';
import { ClusterUnavailableError } from './errors.js';
import { linkedSignal } from './linked-signal.js';
import { LivenessChecks, type CheckOutcome } from './liveness-checks.js';
import { numericHeader, responseError, type HttpRequest, type HttpResponse } from './request.js';

/** What a watch needs from the client. */
export interface WatchContext {
  keysPrefix: string;
  send(req: HttpRequest): Promise<HttpResponse>;
  /** The client's close: a backoff wait ends with it (a closed client's process exits at once). */
  closed?: AbortSignal;
  /** The client's liveness checks, shared by its watches; absent: each watch checks for itself. */
  liveness?: LivenessChecks;
}

/** Options of one watch request. */
export interface WatchOnceOptions {
  recursive?: boolean;
  /** The first index to report; absent: the first event after the watch is registered. */
  waitIndex?: number;
  signal?: AbortSignal;
  /** Called when a registration without `waitIndex` fixed the resume index (registration index + 1). */
  onRegistered?: (waitIndex: number) => void;
  /**
   * Called when a member registered the watch (its response headers arrived), with the store index
   * it registered at (`X-Etcd-Index`): no matching event up to it was found; and the endpoint.
   */
  onHeaders?: (registeredAt: number | undefined, endpoint: string, member: string | undefined) => void;
}

/** Options of a resuming watch. */
export interface WatchOptions {
  recursive?: boolean;
  /** Report events with an index greater than this (etcdctl's `--after-index`). */
  afterIndex?: number;
  signal?: AbortSignal;
  /**
   * Every this many ms (default 60000) of an idle long poll, ask the member that holds it for
   * `/version`: one that does not answer within the client's timeout (paused, cut off) is left and
   * the watch resumes elsewhere; 0 disables it. The poll itself stays registered while the member
   * answers, as etcdctl's does: polled again from its old index, a quiet key's watch died with 401
   * once a busy cluster's history had moved past it. One check per endpoint and interval serves
   * all of a client's watches (see liveness-checks.ts), so the first may come sooner.
   */
  repollAfterMs?: number;
  /**
   * End with the {@link ClusterUnavailableError} once no endpoint answers a poll (one pass over
   * them), as etcdctl's watch ends, instead of backing off and trying again until one does.
   */
  endWhenUnavailable?: boolean;
}

/** The reason an idle poll is ended by the client itself (not a failure). */
class Repoll extends Error {}

const MAX_BACKOFF_MS = 5_000;
export const DEFAULT_REPOLL_MS = 60_000;

/**
 * Waits for one event. Without `waitIndex` the first registration's `X-Etcd-Index` fixes where a
 * failed-over retry resumes, so an event after registration is never skipped.
 */
export async function watchOnce(ctx: WatchContext, key: string, opts: WatchOnceOptions = {}): Promise<KeysResponse> {
  let waitIndex = opts.waitIndex;
  const base = watchRequest(ctx.keysPrefix, key, { ...(opts.recursive ? { recursive: true } : {}) });
  let registeredAt: number | undefined;
  for (;;) {
    registeredAt = undefined;
    const req: HttpRequest = {
      ...base,
      // Asked again for each member tried: one after a member that registered this poll and failed
      // resumes past what that member had seen (see resumeAfterIdle).
      query: () => {
        const from = resumeAfterIdle(waitIndex, registeredAt);
        return { ...(base.query as Record<string, string>), ...(from !== undefined && from > 0 ? { waitIndex: String(from) } : {}) };
      },
      timeoutMs: null,
      onHeaders: (headers, endpoint) => {
        registeredAt = numericHeader(headers, 'x-etcd-index');
        opts.onHeaders?.(registeredAt, endpoint, memberHeader(headers));
        if (waitIndex === undefined && registeredAt !== undefined) {
          waitIndex = registeredAt + 1;
          opts.onRegistered?.(waitIndex);
        }
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    const res = await ctx.send(req);
    if (res.status !== 200) throw responseError(res);
    // A poll the server ended without an event (watcher dropped): ask again, past what it had seen
    // (the old index may have left the history meanwhile).
    if (res.body.trim() === '') {
      waitIndex = resumeAfterIdle(waitIndex, registeredAt);
      continue;
    }
    return keysResponse(res);
  }
}

/**
 * Every event on `key` (and below it with `recursive`), forever: resumes after each event and after
 * every failure, backing off while the whole cluster is unreachable. Ends only by `signal` (or the
 * client's close), with a {@link HistoryClearedError} when the resume index fell out of the
 * server's history, or with another wire error (e.g. 104 for a path through a file).
 */
export async function* watch(ctx: WatchContext, key: string, opts: WatchOptions = {}): AsyncGenerator<KeysResponse, void, undefined> {
  let waitIndex = opts.afterIndex !== undefined ? opts.afterIndex + 1 : undefined;
  let failures = 0;
  /** Polls registered then cut in a row, each soon after it registered (see below). */
  let quickCuts = 0;
  const repollAfterMs = opts.repollAfterMs ?? DEFAULT_REPOLL_MS;
  const liveness = ctx.liveness ?? new LivenessChecks((endpoint, signal) => askVersion(ctx, endpoint, signal));
  for (;;) {
    let event: KeysResponse;
    const idle = new AbortController();
    const link = linkedSignal(opts.signal, idle.signal);
    let unsubscribe: (() => void) | undefined;
    /** False once this poll ended: an outcome handed out meanwhile is ignored. */
    let polling = true;
    let registeredAt: number | undefined;
    let headersAtMs = 0;
    try {
      event = await watchOnce(ctx, key, {
        ...(opts.recursive ? { recursive: true } : {}),
        ...(waitIndex !== undefined ? { waitIndex } : {}),
        signal: link.signal,
        onRegistered: (next) => {
          waitIndex ??= next;
        },
        // The idle clock runs from registration: before it, the client's timeout guards the headers.
        onHeaders: (at, endpoint, member) => {
          registeredAt = at;
          headersAtMs = performance.now();
          failures = 0;
          unsubscribe?.();
          if (repollAfterMs <= 0) return;
          unsubscribe = liveness.subscribe(endpoint, repollAfterMs, (outcome) => {
            if (polling && !memberAnswered(outcome, member)) idle.abort(new Repoll());
          });
        },
      });
    } catch (err) {
      // A poll that was registered and ended without an event (the client's own repoll, a member
      // lost) resumes past what that member had seen: from the old index, a quiet key's watch died
      // with 401 once a busy cluster's history moved past it.
      if (err instanceof Repoll) {
        waitIndex = resumeAfterIdle(waitIndex, registeredAt);
        continue;
      }
      if (!(err instanceof ClusterUnavailableError)) throw err;
      // A poll a member had registered, then cut (a proxy in front whose member went, a member
      // stopping): the endpoint did answer, so poll it again before calling the cluster
      // unreachable; the next poll's own failure to connect is what ends an `endWhenUnavailable`
      // watch. At once the first time; an endpoint that keeps cutting polls soon after it
      // registers them is polled with the unreachable backoff, not in a tight loop.
      const wasRegistered = registeredAt !== undefined;
      waitIndex = resumeAfterIdle(waitIndex, registeredAt);
      if (wasRegistered) {
        quickCuts = performance.now() - headersAtMs < MAX_BACKOFF_MS ? quickCuts + 1 : 0;
        failures = 1;
        if (quickCuts > 1) await sleepUnless(unreachableBackoffMs(quickCuts - 1), opts.signal, ctx.closed);
        continue;
      }
      if (opts.endWhenUnavailable) throw err;
      failures++;
      await sleepUnless(unreachableBackoffMs(failures), opts.signal, ctx.closed);
      continue;
    } finally {
      polling = false;
      unsubscribe?.();
      link.dispose();
    }
    failures = 0;
    quickCuts = 0;
    const index = event.node?.modifiedIndex ?? event.etcdIndex;
    waitIndex = Math.max(waitIndex ?? 0, index + 1);
    yield event;
  }
}

/** The `X-Deimos-Member` a deimos member puts on a watch's registration and on `/version`. */
function memberHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers['x-deimos-member'];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Whether the member holding a watch (`member`, when it said which) answered a liveness check. An
 * answer from another member (a proxy in front sent the check elsewhere, perhaps around the very
 * member that stopped) says nothing of the watch's: the poll is then asked again, as it was
 * before the check existed.
 */
function memberAnswered(outcome: CheckOutcome, member: string | undefined): boolean {
  return outcome !== null && (member === undefined || outcome === member);
}

/** One `/version` check of `endpoint` within the client's timeout: the member that answered, or null. */
export async function askVersion(ctx: Pick<WatchContext, 'send'>, endpoint: string, signal: AbortSignal): Promise<CheckOutcome> {
  try {
    const res = await ctx.send({ method: 'GET', path: '/version', safety: 'read', endpoint, signal });
    return memberHeader(res.headers);
  } catch {
    return null;
  }
}

/**
 * Where a watch resumes after a poll that a member registered at store index `registeredAt` and
 * that ended without an event: that member found no matching event up to `registeredAt` (it would
 * have answered at once), so the next poll may start after it. Unchanged when nothing registered.
 */
export function resumeAfterIdle(waitIndex: number | undefined, registeredAt: number | undefined): number | undefined {
  if (registeredAt === undefined || waitIndex === undefined) return waitIndex;
  return Math.max(waitIndex, registeredAt + 1);
}

/** The wait before the next try after `failures` (>= 1) passes that found no member answering. */
export function unreachableBackoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 10));
}

/**
 * `attempt()` again, with the backoff of {@link watch}, for as long as it finds no member answering
 * (a raft election can outlast one pass over the endpoints), until `signal`. For the reads inside
 * long waits (lock and election queues, observers, service watches), which should ride out a
 * failover as a watch does instead of ending with it.
 */
export async function untilAnswered<T>(attempt: () => Promise<T>, signal?: AbortSignal, closed?: AbortSignal): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError)) throw err;
    }
    await sleepUnless(unreachableBackoffMs(failures), signal, closed);
  }
}

/** {@link sleep} that also ends when `closed` (the client's close) aborts. */
async function sleepUnless(ms: number, signal: AbortSignal | undefined, closed: AbortSignal | undefined): Promise<void> {
  if (closed === undefined) return sleep(ms, signal);
  const link = linkedSignal(signal, closed);
  try {
    await sleep(ms, link.signal);
  } finally {
    link.dispose();
  }
}

/** An abortable sleep. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
