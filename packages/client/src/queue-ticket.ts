/**
 * One place in a lock or election queue: an in-order key with a TTL, kept alive with
 * `refresh=true` every ttl/3, that waits until it is the oldest entry by watching only its
 * predecessor, and that leaves with a compareAndDelete. If the process dies the key expires after
 * its TTL and the next waiter moves up.
 *
 * The holder counts its key as lost when the TTL it last confirmed is about to run out (a lease),
 * not only when a refresh finds the key gone: during a failover the refreshes may not land, the
 * key expires on the cluster and a waiter takes over, and the old holder must have stopped by then.
 * A waiter whose key expired that way queues again (at the back) instead of giving up.
 */
import { MAX_TIMER_MS } from '@deimos/protocol';
import type { DeimosClient } from './client.js';
import { DeimosError, HistoryClearedError, KeyLostError, OutcomeUnknownError } from './errors.js';
import { onProcessExit } from './exit-hooks.js';
import { Heartbeat } from './heartbeat.js';
import type { KeysResponse } from './keys-response.js';
import { queueEntries, queuePosition, type QueueEntry } from './queue.js';
import { DEFAULT_REPOLL_MS, untilAnswered } from './watch.js';
import { linkedSignal } from './linked-signal.js';

/** The holder stops counting on its key this long (at most) before the TTL it confirmed runs out. */
const LEASE_GUARD_MS = 1_000;
/** The longest a refresh attempt waits before the next member is tried. */
const REFRESH_ATTEMPT_MAX_MS = 5_000;
/** Enqueue attempts whose outcome stayed unknown (a timeout, a leader change) before giving up. */
const ENQUEUE_ATTEMPTS = 5;

/** Options of a queue entry. */
export interface QueueTicketOptions {
  ttlSeconds: number;
  /** Delete the key on SIGINT/SIGTERM/beforeExit (default true). */
  releaseOnExit?: boolean;
  /** Called once when the key is found gone (expired or deleted by someone else). */
  onLost?: (err: KeyLostError) => void;
  /**
   * The value is unique to this waiter: when the POST ends with an unknown outcome, look for an
   * entry with this value and adopt it instead of leaving it to block the queue until its TTL.
   */
  uniqueValue?: boolean;
}

/** An entry in a queue directory. */
export class QueueTicket {
  private modifiedIndex: number;
  private readonly heartbeat: Heartbeat;
  private readonly lostController = new AbortController();
  private readonly unregisterExit: () => void;
  private left = false;
  /** Per-attempt timeout of a refresh: a member that does not answer must not hold it past the next beat. */
  private readonly refreshTimeoutMs: number;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** When the lease runs out (performance.now() clock); see {@link confirmed}. */
  private leaseDeadline = Infinity;
  /** The keep-alive's interval (ttl/3). */
  private readonly beatMs: number;

  private constructor(
    private readonly client: DeimosClient,
    readonly dir: string,
    readonly key: string,
    readonly createdIndex: number,
    private readonly opts: QueueTicketOptions,
    modifiedIndex: number,
    /** When the request that created (or adopted) the key was sent (performance.now()). */
    confirmedAt: number,
  ) {
    this.modifiedIndex = modifiedIndex;
    const ttlMs = opts.ttlSeconds * 1000;
    // At most the client's default 5 s (a TTL of months must not make an attempt wait for weeks).
    this.refreshTimeoutMs = Math.max(500, Math.min(ttlMs / 3, REFRESH_ATTEMPT_MAX_MS));
    this.beatMs = Math.max(1, ttlMs / 3);
    this.heartbeat = new Heartbeat(() => this.refresh(), this.beatMs, (err) => this.onBeatError(err));
    this.heartbeat.start();
    this.confirmed(confirmedAt);
    this.unregisterExit = opts.releaseOnExit === false ? () => undefined : onProcessExit(() => this.leave());
    client.closedSignal.addEventListener('abort', this.onClientClosed, { once: true });
  }

  /**
   * A closed client cannot delete the key: no exit hook tries (it warned "the Deimos client is
   * closed" at exit). The lease runs on as against a cluster that stopped answering: the ticket is
   * held until it runs out, then lost (`onLost`), and the key expires at its TTL.
   */
  private readonly onClientClosed = (): void => {
    this.unregisterExit();
  };

  /** POSTs a new entry under `dir` and starts keeping it alive. */
  /**
   * Enqueues and waits until the ticket heads the queue; on abort or error the ticket leaves the
   * queue before the error is rethrown. `onTicket` sees the ticket as soon as it exists.
   */
  static async enqueueAndWait(
    client: DeimosClient, dir: string, value: string, opts: QueueTicketOptions,
    onTicket: (ticket: QueueTicket | undefined) => void, signal?: AbortSignal,
  ): Promise<QueueTicket> {
    for (let requeue = false; ; requeue = true) {
      signal?.throwIfAborted();
      let holding = false;
      // A waiter's lost key is not the caller's loss: it queues again below.
      const enqueue = (): Promise<QueueTicket> => QueueTicket.enqueue(client, dir, value, { ...opts, onLost: (err) => (holding ? opts.onLost?.(err) : undefined) });
      // Queuing again happens in a failover as a rule: ride it out as the wait itself does (a first
      // POST that reaches no member still fails at once: the cluster may not be there at all).
      const ticket = requeue ? await untilAnswered(enqueue, signal, client.closedSignal) : await enqueue();
      onTicket(ticket);
      try {
        await ticket.waitForHead(signal);
        // Made or found at the head after a stall, the lease may be nearly spent (it counts from
        // when the request was sent): confirm the key first, so the lock is not handed over on a
        // lease that runs out before the next keep-alive.
        await ticket.renewIfShort();
        if (!ticket.done) {
          holding = true;
          return ticket;
        }
        ticket.lostSignal.throwIfAborted();
        throw new KeyLostError(ticket.key, 'its lease ran out before it headed the queue: taken as expired');
      } catch (err) {
        onTicket(undefined);
        // Best effort: the caller gets why the wait ended (an abort, a lost key), not a failure to
        // delete while the cluster is unreachable; an entry left behind expires after its TTL, as
        // the ticket's keep-alive has stopped.
        await ticket.leave().catch(() => undefined);
        // The key expired while waiting (its refreshes did not land during a failover, or someone
        // deleted it): queue again, at the back, rather than give up the wait.
        if (err instanceof KeyLostError && !signal?.aborted) continue;
        throw err;
      }
    }
  }

  static async enqueue(client: DeimosClient, dir: string, value: string, opts: QueueTicketOptions): Promise<QueueTicket> {
    // An entry found after an unknown outcome may be any attempt's: its TTL is counted from the first.
    const firstSentAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      const sentAt = attempt === 1 ? firstSentAt : performance.now();
      let res: KeysResponse;
      try {
        res = await client.createInOrder(dir, value, { ttl: opts.ttlSeconds });
      } catch (err) {
        // A timeout or a leader change: the POST may have applied, or may still apply.
        const unknown = err instanceof OutcomeUnknownError || (err instanceof DeimosError && err.errorCode === 300);
        if (!unknown || !opts.uniqueValue) throw err;
        const mine = (await untilAnswered(() => readQueue(client, dir), undefined, client.closedSignal)).entries.find((e) => e.value === value);
        if (mine !== undefined) return new QueueTicket(client, dir, mine.key, mine.createdIndex, opts, mine.modifiedIndex, firstSentAt);
        // Not there: it did not apply (or applies later, then expires unrefreshed): ask again.
        if (attempt >= ENQUEUE_ATTEMPTS) throw err;
        continue;
      }
      const node = res.node!;
      const created = node.createdIndex ?? res.etcdIndex;
      return new QueueTicket(client, dir, node.key!, created, opts, created, sentAt);
    }
  }

  /** Aborted when the key was found gone; `reason` is the {@link KeyLostError}. */
  get lostSignal(): AbortSignal {
    return this.lostController.signal;
  }

  /**
   * True after `leave()`, once the key was lost, or once its lease ran out: at that moment, not
   * when the lease timer's turn comes. A process paused past its TTL runs its own overdue timers
   * first when it resumes, and one asking `isLeader` there was told yes while another led.
   */
  get done(): boolean {
    return this.left || this.lostController.signal.aborted || performance.now() >= this.leaseDeadline;
  }

  /**
   * Resolves when this entry is the oldest in the queue. Between checks it watches only its
   * predecessor, from the index of the read that found it, so a deletion in between is not missed.
   */
  async waitForHead(signal?: AbortSignal): Promise<void> {
    const link = signal ? linkedSignal(signal, this.lostSignal) : undefined;
    try {
      await this.waitForHeadUntil(link?.signal ?? this.lostSignal);
    } finally {
      link?.dispose();
    }
  }

  private async waitForHeadUntil(stop: AbortSignal): Promise<void> {
    for (;;) {
      stop.throwIfAborted();
      const { entries, index } = await untilAnswered(() => readQueue(this.client, this.dir), stop, this.client.closedSignal);
      const pos = queuePosition(entries, this.key);
      if (pos.kind === 'missing') {
        this.markLost('no longer in the queue (expired or deleted)');
        stop.throwIfAborted();
      }
      if (pos.kind === 'head') return;
      if (pos.kind !== 'waiting') continue;
      try {
        await nextEvent(this.client, pos.predecessor.key, index, { signal: stop, repollAfterMs: waitCheckMs(this.opts.ttlSeconds) });
      } catch (err) {
        if (stop.aborted) throw stop.reason;
        if (!(err instanceof HistoryClearedError)) throw err;
      }
    }
  }

  /** Stops the keep-alive and deletes the key (compareAndDelete on its last modifiedIndex). */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    clearTimeout(this.leaseTimer);
    this.unregisterExit();
    this.client.closedSignal.removeEventListener('abort', this.onClientClosed);
    await this.heartbeat.stop();
    if (this.lostSignal.aborted) return;
    try {
      await this.client.delete(this.key, { prevIndex: this.modifiedIndex });
    } catch (err) {
      if (!(err instanceof DeimosError)) throw err;
      // 100: already expired (or a retried delete applied the first time) - nothing left to free.
      // 101: changed behind our back; the key is ours by name (in-order keys are never reused).
      if (err.errorCode === 101) await this.client.delete(this.key);
      else if (err.errorCode !== 100) throw err;
    }
  }

  /**
   * Refreshes the key now when less of its lease is left than one keep-alive interval (a key
   * found gone is marked lost; a cluster that does not answer leaves the lease as it was).
   */
  async renewIfShort(): Promise<void> {
    if (this.done || this.leaseDeadline - performance.now() >= this.beatMs) return;
    try {
      await this.refresh();
    } catch (err) {
      this.onBeatError(err);
    }
  }

  private async refresh(): Promise<void> {
    const sentAt = performance.now();
    const res = await this.client.refresh(this.key, this.opts.ttlSeconds, { timeoutMs: this.refreshTimeoutMs });
    this.modifiedIndex = res.node?.modifiedIndex ?? this.modifiedIndex;
    this.confirmed(sentAt);
  }

  /**
   * The key was given its whole TTL by a request sent at `sentAt`: it lives at least until then
   * plus the TTL (the cluster counts from when it applied the request). Past that, less a guard,
   * the key is taken as lost unless a later refresh confirmed it again.
   */
  private confirmed(sentAt: number): void {
    if (this.done) return;
    const ttlMs = this.opts.ttlSeconds * 1000;
    this.armLease(sentAt + ttlMs - Math.min(LEASE_GUARD_MS, ttlMs / 6));
  }

  /** Marks the key lost at `deadline`; one past Node's timer range is waited for in steps. */
  private armLease(deadline: number): void {
    clearTimeout(this.leaseTimer);
    this.leaseDeadline = deadline;
    const left = deadline - performance.now();
    this.leaseTimer = setTimeout(() => {
      if (left > MAX_TIMER_MS) return this.armLease(deadline);
      this.markLost(`not refreshed within its ttl (${this.client.closedSignal.aborted ? 'its client was closed' : 'the cluster did not answer'}): taken as expired`);
    }, Math.min(MAX_TIMER_MS, Math.max(0, left)));
    this.leaseTimer.unref();
  }

  private onBeatError(err: unknown): void {
    if (err instanceof DeimosError && err.errorCode === 100) {
      void this.heartbeat.stop();
      this.markLost('expired before it was refreshed');
    }
    // Other failures (cluster unreachable) are retried at the next beat, ttl/3 later.
  }

  private markLost(detail: string): void {
    if (this.lostSignal.aborted) return;
    clearTimeout(this.leaseTimer);
    const err = new KeyLostError(this.key, detail);
    this.lostController.abort(err);
    this.unregisterExit();
    this.client.closedSignal.removeEventListener('abort', this.onClientClosed);
    void this.heartbeat.stop();
    this.opts.onLost?.(err);
  }
}

/**
 * How often a queue's waiting watch asks its member whether it is alive (the watch's
 * `repollAfterMs`): as often as the entry's own key is refreshed (ttl/3), at most the watch's
 * default minute. A waiter whose member was paused went on waiting there for a minute after the lock was
 * freed, though its refreshes had failed over at once.
 */
export function waitCheckMs(ttlSeconds: number): number {
  // (A long TTL must not make a wait check less often than a plain watch does.)
  return Math.min(DEFAULT_REPOLL_MS, Math.max(1_000, Math.round((ttlSeconds * 1000) / 3)));
}

/**
 * The first event on `key` after store index `afterIndex`, through the resuming watch (so it
 * survives member failures and backs off while the cluster is unreachable).
 */
export async function nextEvent(client: DeimosClient, key: string, afterIndex: number, opts: { recursive?: boolean; signal?: AbortSignal; repollAfterMs?: number } = {}): Promise<KeysResponse> {
  for await (const event of client.watch(key, { ...opts, afterIndex })) return event;
  throw new Error(`the watch on ${key} ended without an event`);
}

/** The entries of a queue directory and the store index of the read (empty when it does not exist). */
export async function readQueue(client: DeimosClient, dir: string): Promise<{ entries: QueueEntry[]; index: number; res?: KeysResponse }> {
  try {
    const res = await client.get(dir, { sorted: true });
    return { entries: queueEntries(res.node), index: res.etcdIndex, res };
  } catch (err) {
    if (err instanceof DeimosError && err.errorCode === 100) return { entries: [], index: err.index };
    throw err;
  }
}
