/**
 * Pending client requests waiting for their proposal to be applied, keyed by request ID.
 * Every wait is bounded: it fails with a timeout error when consensus does not answer in time.
 */

/** Raised to a waiter whose request did not complete in time; the write may still happen later. */
export class RequestTimeoutError extends Error {
  readonly code = 'ERR_REQUEST_TIMEOUT';
  /** `etcdCause`: why, in etcd's words, for a write's answer (see member/timeout-cause.ts). */
  constructor(readonly etcdCause?: string) {
    super('request timed out');
    this.name = 'RequestTimeoutError';
  }
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A registry of pending requests; bounded in size so overload fails fast instead of growing. */
export class WaitRegistry<T> {
  private readonly waiters = new Map<string, Waiter<T>>();

  constructor(private readonly maxPending: number) {}

  /** Number of requests waiting. */
  get size(): number {
    return this.waiters.size;
  }

  /** True when no more requests may be registered. */
  get full(): boolean {
    return this.waiters.size >= this.maxPending;
  }

  /**
   * Registers `id` and returns a promise settled by trigger/fail or by the timeout, which rejects
   * with `timedOut()` (made then, so it can say why), by default a plain {@link RequestTimeoutError}.
   */
  register(id: string, timeoutMs: number, timedOut: () => Error = () => new RequestTimeoutError()): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(timedOut());
      }, timeoutMs);
      this.waiters.set(id, { resolve, reject, timer });
    });
  }

  /** True when someone waits for `id` (only the proposing member has waiters). */
  has(id: string): boolean {
    return this.waiters.has(id);
  }

  /** Settles the waiter of `id` with a result, if any. */
  trigger(id: string, value: T): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    w.resolve(value);
  }

  /** Fails the waiter of `id`, if any. */
  fail(id: string, err: Error): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    w.reject(err);
  }

  /** Fails every waiter (shutdown). */
  failAll(err: Error): void {
    for (const id of [...this.waiters.keys()]) this.fail(id, err);
  }
}
