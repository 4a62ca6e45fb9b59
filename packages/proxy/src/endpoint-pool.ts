/**
 * The members the proxy may forward to, with their health: a member that refused or timed out is
 * skipped until its failure wait ends, and among the healthy ones the lowest latency (an exponentially
 * weighted moving average, scaled by requests in flight so that load spreads) wins. A latency only
 * changes when the member is picked, so one that has gone a failure wait without a sample is picked
 * once more to measure it again: otherwise a member whose last sample was slow (a cold first request)
 * would never be tried again while the others answer faster, and neither that it got faster nor
 * that it died would be seen. It also logs a member's health: once when it goes down (with a reminder at
 * growing intervals while it stays down) and once when it answers again.
 */
import { portOf } from './url-port.js';
import type { ProxyLogger } from './logger.js';
import { formatDuration, OutageLog } from './outage-log.js';

/** One upstream member, identified by its client URL. */
export interface Endpoint {
  /** `scheme://host:port`. */
  readonly url: string;
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
  /** Skipped until this time (ms since epoch); 0 = healthy. */
  failedUntilMs: number;
  /** Smoothed time to response headers; undefined until the first response, and after a failure. */
  latencyEwmaMs: number | undefined;
  /** When the latency was last sampled, or the member last picked to sample it again (ms since epoch). */
  latencySampledAtMs: number;
  inFlight: number;
}

/** Weight of the newest sample in the latency average. */
const EWMA_ALPHA = 0.2;
/** Pick ranks below every latency score: a member never measured (or back from a failure) first... */
const UNMEASURED = -2;
/** ...then one whose latency is a failure wait old. */
const STALE = -1;

/** Pool of upstream members. */
export class EndpointPool {
  private endpoints: Endpoint[] = [];
  private rotation = 0;
  private readonly outages = new WeakMap<Endpoint, OutageLog>();

  constructor(private readonly failureWaitMs: number, private readonly now: () => number = Date.now, private readonly logger?: ProxyLogger) {}

  /** Replaces the member list, keeping the health of members that stay. Returns added and removed URLs. */
  setUrls(urls: readonly string[]): { added: string[]; removed: string[] } {
    const old = new Map(this.endpoints.map((e) => [e.url, e]));
    const next: Endpoint[] = [];
    const added: string[] = [];
    for (const url of new Set(urls)) {
      const kept = old.get(url);
      if (kept) {
        next.push(kept);
        old.delete(url);
        continue;
      }
      const u = new URL(url);
      next.push({
        url, protocol: u.protocol as 'http:' | 'https:', hostname: u.hostname.replace(/^\[|\]$/g, ''), port: portOf(u),
        failedUntilMs: 0, latencyEwmaMs: undefined, latencySampledAtMs: 0, inFlight: 0,
      });
      added.push(url);
    }
    this.endpoints = next;
    return { added, removed: [...old.keys()] };
  }

  /** Every member, failed ones included. */
  all(): readonly Endpoint[] {
    return this.endpoints;
  }

  /** URLs of every member. */
  urls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  /** True when `e` is skipped right now. */
  isFailed(e: Endpoint): boolean {
    return e.failedUntilMs > this.now();
  }

  /**
   * The member to send the next request to, not in `exclude` and not failed: one without a latency
   * (new, or back from a failure wait) first, then one whose latency is stale (no sample for a failure
   * wait; picking it counts as its one probe for the next failure wait), then the lowest latency × (1
   * + in flight). Undefined when every member is failed or excluded. The caller sends to the member.
   */
  pick(exclude?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const now = this.now();
    const list = this.endpoints;
    const n = list.length;
    let best: Endpoint | undefined;
    let bestScore = Infinity;
    // Start at a rotating offset so that ties (equal scores) take turns.
    const start = n === 0 ? 0 : this.rotation++ % n;
    for (let k = 0; k < n; k++) {
      const e = list[(start + k) % n]!;
      if (e.failedUntilMs > now || exclude?.has(e)) continue;
      const score = e.latencyEwmaMs === undefined ? UNMEASURED : this.isStale(e, now) ? STALE : e.latencyEwmaMs * (1 + e.inFlight);
      if (score < bestScore) {
        best = e;
        bestScore = score;
      }
    }
    // One probe per failure wait: until it answers (or fails), the member is ranked by its old latency.
    if (bestScore === STALE) best!.latencySampledAtMs = now;
    return best;
  }

  private isStale(e: Endpoint, now: number): boolean {
    return now - e.latencySampledAtMs >= this.failureWaitMs;
  }

  /** Records a response's time to headers (so the member is up). */
  recordLatency(e: Endpoint, ms: number): void {
    e.latencyEwmaMs = e.latencyEwmaMs === undefined ? ms : e.latencyEwmaMs + EWMA_ALPHA * (ms - e.latencyEwmaMs);
    e.latencySampledAtMs = this.now();
    this.answered(e);
  }

  /** Skips `e` for the failure wait; `reason` (an error code) goes into the log. */
  markFailed(e: Endpoint, reason = 'no answer'): void {
    const now = this.now();
    e.failedUntilMs = now + this.failureWaitMs;
    // Once the wait is over the member is tried first (as one without a latency yet): its old
    // latency says nothing now, and a member slower than the rest before it failed would otherwise
    // never be tried again while they answer, so its return would go unnoticed.
    e.latencyEwmaMs = undefined;
    let outage = this.outages.get(e);
    if (outage === undefined) this.outages.set(e, (outage = new OutageLog()));
    const log = outage.failed(now);
    if (log?.kind === 'down') {
      this.logger?.warn('member is down; skipping it, and trying it again after each failure wait', { member: e.url, error: reason, failureWait: formatDuration(this.failureWaitMs) });
    } else if (log?.kind === 'still-down') {
      this.logger?.warn('member is still down', { member: e.url, error: reason, downFor: formatDuration(log.downForMs), failures: log.failures });
    }
  }

  /** Clears a failure mark (the member answered, e.g. to discovery). */
  markHealthy(url: string): void {
    const e = this.endpoints.find((x) => x.url === url);
    if (!e) return;
    e.failedUntilMs = 0;
    this.answered(e);
  }

  /** Ends `e`'s outage, if it had one, with one log line. */
  private answered(e: Endpoint): void {
    const ended = this.outages.get(e)?.succeeded(this.now());
    if (ended) this.logger?.info('member is back', { member: e.url, downFor: formatDuration(ended.downForMs), failures: ended.failures });
  }
}
