/**
 * Leader election on the same queue recipe as {@link Lock}: candidates enqueue their proposal,
 * the oldest entry leads, a leader that dies is replaced after its TTL.
 */
import type { DeimosClient } from './client.js';
import { HistoryClearedError, type KeyLostError } from './errors.js';
import { QueueTicket, nextEvent, readQueue, waitCheckMs } from './queue-ticket.js';
import { keepAliveTtl } from './keys-options.js';
import { untilAnswered } from './watch.js';

/** Options of an {@link Election}. */
export interface ElectionOptions {
  /**
   * Seconds a dead leader keeps its place (default 30). Waiting and observing watches also check
   * every ttl/3 that their member answers, and move to another one if not.
   */
  ttl?: number;
  /** Directory of all elections (default `/elections`); the queue is `<prefix>/<name>`. */
  prefix?: string;
  /** Delete our candidacy on SIGINT/SIGTERM/beforeExit (default true). */
  releaseOnExit?: boolean;
  /** Called when our candidacy key is found gone (we no longer lead or wait). */
  onLost?: (err: KeyLostError) => void;
}

/** A named election. */
export class Election {
  /** The queue directory, `<prefix>/<name>`. */
  readonly dir: string;
  private readonly ttlSeconds: number;
  private ticket: QueueTicket | undefined;
  private leading = false;
  private campaigning = false;

  constructor(private readonly client: DeimosClient, readonly name: string, private readonly opts: ElectionOptions = {}) {
    this.dir = `${(opts.prefix ?? '/elections').replace(/\/+$/, '')}/${name}`;
    this.ttlSeconds = keepAliveTtl(opts.ttl ?? 30);
  }

  /** True while our candidacy leads. */
  get isLeader(): boolean {
    return this.leading && this.ticket !== undefined && !this.ticket.done;
  }

  /** Enters the election with `proposal` and resolves once we lead; on abort the candidacy is withdrawn. */
  async campaign(proposal: string, signal?: AbortSignal): Promise<void> {
    // Once leadership is lost, a new campaign may start (the lost key expires on its own).
    if (this.campaigning || (this.ticket !== undefined && !this.ticket.done)) throw new Error(`already campaigning in ${this.dir}`);
    this.ticket = undefined;
    this.campaigning = true;
    try {
      await this.enqueueAndWait(proposal, signal);
    } finally {
      this.campaigning = false;
    }
    this.leading = true;
  }

  private async enqueueAndWait(proposal: string, signal: AbortSignal | undefined): Promise<void> {
    await QueueTicket.enqueueAndWait(this.client, this.dir, proposal, {
      ttlSeconds: this.ttlSeconds,
      ...(this.opts.releaseOnExit !== undefined ? { releaseOnExit: this.opts.releaseOnExit } : {}),
      onLost: (err) => {
        this.leading = false;
        this.opts.onLost?.(err);
      },
    }, (t) => (this.ticket = t), signal);
  }

  /** Withdraws our candidacy (gives up leadership); the next candidate leads at once. */
  async resign(): Promise<void> {
    const ticket = this.ticket;
    this.ticket = undefined;
    this.leading = false;
    await ticket?.leave();
  }

  /** The current leader's proposal, or undefined when nobody campaigns. */
  async leader(): Promise<string | undefined> {
    const { entries } = await readQueue(this.client, this.dir);
    return entries[0]?.value;
  }

  /**
   * The leader's proposal now, then after every change of leader (undefined while nobody leads).
   * Each read is followed by a watch from its index, so no change is missed. Like a watch, it rides
   * out a cluster that stops answering (backing off) and ends only by `signal` or a wire error.
   */
  async *observe(signal?: AbortSignal): AsyncIterableIterator<string | undefined> {
    let lastKey: string | null = null;
    for (;;) {
      signal?.throwIfAborted();
      const { entries, index } = await untilAnswered(() => readQueue(this.client, this.dir), signal, this.client.closedSignal);
      const head = entries[0];
      if ((head?.key ?? '') !== lastKey) {
        lastKey = head?.key ?? '';
        yield head?.value;
      }
      try {
        await nextEvent(this.client, this.dir, index, { recursive: true, repollAfterMs: waitCheckMs(this.ttlSeconds), ...(signal ? { signal } : {}) });
      } catch (err) {
        if (!(err instanceof HistoryClearedError)) throw err;
      }
    }
  }
}
