/**
 * The members the proxy may forward to, with their health: a member that refused or timed out is
 * skipped until its failure wait ends, and among the healthy ones the lowest latency (an exponentially
 * weighted moving average, scaled by requests in flight so that load spreads) wins. A latency only
 * changes when the member is picked, so one that has gone a failure wait without a sample is picked
 * once more to measure it again: otherwise a member whose last sample was slow (a cold first request)
 * would never be tried again while the others answer faster, and neither that it got faster nor
 * that it died would be seen. Failures and answers go to a {@link MemberHealthObserver}: the log
 * (member-health-log.ts), or in a worker of a proxy with several, the primary that logs for all.
 */
import { portOf } from './url-port.js';

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
  /** When the member last answered (a forwarded request, or discovery); 0: not yet (ms since epoch). */
  answeredAtMs: number;
  inFlight: number;
  /** The latency holds a wait that got no answer (see `recordUnanswered`): the next answer replaces it. */
  latencyUnanswered?: boolean;
}

/** Who hears of a member's failures and answers. */
export interface MemberHealthObserver {
  /** A request to `e` got no answer (`reason`: an error code). */
  failed(e: Endpoint, reason: string, nowMs: number): void;
  /** `e` answered; called for every answer, so it must be cheap. */
  answered(e: Endpoint, nowMs: number): void;
}

/** Another process's marks of a member (a proxy worker gets its primary's: proxy-workers.ts). */
export interface MemberMarks {
  /** Skipped there until this time (ms since epoch); 0 or past: not skipped. */
  failedUntilMs: number;
  /** When it last answered there (ms since epoch); 0: not yet. */
  answeredAtMs: number;
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

  constructor(private readonly failureWaitMs: number, private readonly now: () => number = Date.now, private readonly health?: MemberHealthObserver) {}

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
        failedUntilMs: 0, latencyEwmaMs: undefined, latencySampledAtMs: 0, answeredAtMs: 0, inFlight: 0,
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
    e.latencyEwmaMs = e.latencyEwmaMs === undefined || e.latencyUnanswered === true ? ms : e.latencyEwmaMs + EWMA_ALPHA * (ms - e.latencyEwmaMs);
    e.latencyUnanswered = false;
    const now = this.now();
    e.latencySampledAtMs = now;
    this.answered(e, now);
  }

  /**
   * A wait of `ms` that got no answer: its client gave up first (a client's timeout is often shorter
   * than the proxy's own). Counted in the latency, never lowering it, so that the next picks avoid a
   * member that stopped answering: a paused member otherwise kept its low average, took the client's
   * next try too, and held a watch through the proxy for as long as it was paused. Not an answer. The
   * wait stands alone, and so does the next answer (the probe once the latency is stale): a member
   * that answers again is ranked by that, not after many answers averaged down from a long wait.
   */
  recordUnanswered(e: Endpoint, ms: number): void {
    if (e.latencyEwmaMs !== undefined && ms <= e.latencyEwmaMs) return;
    e.latencyEwmaMs = ms;
    e.latencyUnanswered = true;
    e.latencySampledAtMs = this.now();
  }

  /** Skips `e` for the failure wait; `reason` (an error code) goes to the health observer. */
  markFailed(e: Endpoint, reason = 'no answer'): void {
    const now = this.now();
    this.skipUntil(e, now + this.failureWaitMs);
    this.health?.failed(e, reason, now);
  }

  private skipUntil(e: Endpoint, untilMs: number): void {
    e.failedUntilMs = untilMs;
    // Once the wait is over the member is tried first (as one without a latency yet): its old
    // latency says nothing now, and a member slower than the rest before it failed would otherwise
    // never be tried again while they answer, so its return would go unnoticed.
    e.latencyEwmaMs = undefined;
  }

  /** Clears a failure mark (the member answered, e.g. to discovery). */
  markHealthy(url: string): void {
    const e = this.find(url);
    if (!e) return;
    e.failedUntilMs = 0;
    this.answered(e, this.now());
  }

  /**
   * Takes another process's marks of `url` without telling the health observer (they are that
   * process's news): a longer skip is adopted, so that one worker's failed request spares the
   * others the same failure, and a skip of this pool's that began before the member last answered
   * there ends, as {@link markHealthy} would end it.
   */
  applyMarks(url: string, marks: MemberMarks): void {
    const e = this.find(url);
    if (!e) return;
    // A skip always lasts one failure wait, so it began a failure wait before it ends. An answer in
    // the same millisecond as the failure counts as after it (as markHealthy would clear it).
    if (e.failedUntilMs !== 0 && marks.answeredAtMs !== 0 && e.failedUntilMs - this.failureWaitMs <= marks.answeredAtMs) e.failedUntilMs = 0;
    if (marks.failedUntilMs > e.failedUntilMs && marks.failedUntilMs > this.now()) this.skipUntil(e, marks.failedUntilMs);
  }

  private find(url: string): Endpoint | undefined {
    return this.endpoints.find((x) => x.url === url);
  }

  private answered(e: Endpoint, now: number): void {
    e.answeredAtMs = now;
    this.health?.answered(e, now);
  }
}
