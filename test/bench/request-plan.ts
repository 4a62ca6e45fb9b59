/**
 * The bench's requests as data rather than closures, so that load threads can make them too: a
 * {@link RequestSpec} says what to send, and a {@link LoadPlan} adds the counters that all threads
 * share (keys written so far), in a SharedArrayBuffer.
 */
import type { LoadRequest } from './load-generator.js';

/** What each request of a load is. */
export type RequestSpec =
  /** PUT `/v2/keys/bench/k<n>` with a form value of `valueBytes` bytes, n counting up across threads. */
  | { kind: 'write'; valueBytes: number }
  /** GET one of the keys written so far, spread with a stride, with this query (no `?`). */
  | { kind: 'read'; query: string }
  /** GET the same path every time. */
  | { kind: 'get'; path: string };

/** A spec and the counters it shares between threads. */
export interface LoadPlan {
  spec: RequestSpec;
  /** Int32 slot 0: keys written so far (shared by every plan of one target). */
  counters: SharedArrayBuffer;
  /** Headers sent with every request (the --auth case's Basic credentials). */
  headers?: Record<string, string>;
}

/** A fresh set of shared counters. */
export function newCounters(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

/** Keys written so far under these counters. */
export function writtenOf(counters: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(counters), 0);
}

/**
 * The request maker of a plan. A load thread passes its index and the thread count so that the
 * threads' sequence numbers interleave (thread t uses t, t + n, t + 2n, ...) instead of repeating.
 */
export function makerOf(plan: LoadPlan, thread = 0, threads = 1): (seq: number) => LoadRequest {
  const spec = plan.spec;
  const counters = new Int32Array(plan.counters);
  const extra = plan.headers;
  if (spec.kind === 'write') {
    const body = Buffer.from(`value=${'v'.repeat(spec.valueBytes)}`);
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', ...extra };
    return () => ({ method: 'PUT', path: `/v2/keys/bench/k${Atomics.add(counters, 0, 1)}`, body, headers });
  }
  if (spec.kind === 'read') {
    const query = spec.query ? `?${spec.query}` : '';
    return (seq) => ({ method: 'GET', path: `/v2/keys/bench/k${((seq * threads + thread) * 7919) % Math.max(1, Atomics.load(counters, 0))}${query}`, headers: extra });
  }
  const path = spec.path;
  return () => ({ method: 'GET', path, headers: extra });
}
