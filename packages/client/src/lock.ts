/**
 * A distributed lock on the etcd v2 queue recipe: fair (FIFO by index), no thundering herd, freed
 * by the TTL when the holder dies and by exit hooks when it ends normally.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { DeimosClient } from './client.js';
import type { KeyLostError } from './errors.js';
import { QueueTicket } from './queue-ticket.js';
import { keepAliveTtl } from './keys-options.js';

/** Options of a {@link Lock}. */
export interface LockOptions {
  /**
   * Seconds the lock outlives a holder that stopped refreshing (default 30). A waiter's watch also
   * checks every ttl/3 that its member answers, and moves to another one if not.
   */
  ttl?: number;
  /** Value of the queue key, e.g. who holds it (default `<host>:<pid>:<random>`). */
  value?: string;
  /** Directory of all locks (default `/locks`); the queue is `<prefix>/<name>`. */
  prefix?: string;
  /** Delete the key on SIGINT/SIGTERM/beforeExit (default true). */
  releaseOnExit?: boolean;
  /** Called when the key is found gone while waiting or holding (the lock is no longer held). */
  onLost?: (err: KeyLostError) => void;
}

/**
 * A named mutual-exclusion lock. `acquire()` enqueues an in-order key with a TTL under
 * `<prefix>/<name>`, refreshes it every ttl/3 and resolves when it is the oldest key. A lock
 * object holds (or waits for) the lock at most once at a time.
 */
export class Lock {
  /** The queue directory, `<prefix>/<name>`. */
  readonly dir: string;
  /** The value written into the queue key. */
  readonly value: string;
  private readonly ttlSeconds: number;
  private ticket: QueueTicket | undefined;
  private holding = false;
  private acquiring = false;

  constructor(private readonly client: DeimosClient, readonly name: string, private readonly opts: LockOptions = {}) {
    this.dir = `${(opts.prefix ?? '/locks').replace(/\/+$/, '')}/${name}`;
    this.value = opts.value ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
    this.ttlSeconds = keepAliveTtl(opts.ttl ?? 30);
  }

  /** True while this object holds the lock (false again once released or lost). */
  get held(): boolean {
    return this.holding && this.ticket !== undefined && !this.ticket.done;
  }

  /** The queue key while waiting or holding. */
  get key(): string | undefined {
    return this.ticket?.key;
  }

  /** Waits until the lock is ours; on abort or failure the queue key is deleted again. */
  async acquire(signal?: AbortSignal): Promise<void> {
    // Once lost, the lock may be asked for again (the lost key expires on its own).
    if (this.acquiring || (this.ticket !== undefined && !this.ticket.done)) throw new Error(`lock ${this.dir} is already held or being acquired by this object`);
    this.ticket = undefined;
    this.acquiring = true;
    try {
      await this.enqueueAndWait(signal);
    } finally {
      this.acquiring = false;
    }
    this.holding = true;
  }

  private async enqueueAndWait(signal: AbortSignal | undefined): Promise<void> {
    await QueueTicket.enqueueAndWait(this.client, this.dir, this.value, {
      ttlSeconds: this.ttlSeconds,
      uniqueValue: this.opts.value === undefined,
      ...(this.opts.releaseOnExit !== undefined ? { releaseOnExit: this.opts.releaseOnExit } : {}),
      onLost: (err) => {
        this.holding = false;
        this.opts.onLost?.(err);
      },
    }, (t) => (this.ticket = t), signal);
  }

  /** Releases the lock (or leaves the queue); the next waiter takes over at once. */
  async release(): Promise<void> {
    const ticket = this.ticket;
    this.ticket = undefined;
    this.holding = false;
    await ticket?.leave();
  }
}
