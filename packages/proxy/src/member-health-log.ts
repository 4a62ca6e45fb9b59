/**
 * The log of members' health: a member is logged once when it goes down (with a reminder at growing
 * intervals while it stays down: outage-log.ts) and once when it answers again. One process keeps
 * it: a proxy without workers, or the primary of one with several, whose workers report their
 * failures and answers to it (proxy-workers.ts) so that an outage is logged once, not once a worker.
 */
import type { Endpoint, MemberHealthObserver } from './endpoint-pool.js';
import type { ProxyLogger } from './logger.js';
import { formatDuration, OutageLog } from './outage-log.js';

/** Logs the outages of a pool's members. */
export class MemberHealthLog implements MemberHealthObserver {
  private readonly outages = new WeakMap<Endpoint, OutageLog>();

  constructor(private readonly logger: ProxyLogger, private readonly failureWaitMs: number) {}

  failed(e: Endpoint, reason: string, nowMs: number): void {
    let outage = this.outages.get(e);
    if (outage === undefined) this.outages.set(e, (outage = new OutageLog()));
    const log = outage.failed(nowMs);
    if (log?.kind === 'down') {
      this.logger.warn('member is down; skipping it, and trying it again after each failure wait', { member: e.url, error: reason, failureWait: formatDuration(this.failureWaitMs) });
    } else if (log?.kind === 'still-down') {
      this.logger.warn('member is still down', { member: e.url, error: reason, downFor: formatDuration(log.downForMs), failures: log.failures });
    }
  }

  /** Ends `e`'s outage, if it had one, with one log line. */
  answered(e: Endpoint, nowMs: number): void {
    const ended = this.outages.get(e)?.succeeded(nowMs);
    if (ended) this.logger.info('member is back', { member: e.url, downFor: formatDuration(ended.downForMs), failures: ended.failures });
  }

  /** True between `e`'s failure and its next answer. */
  isDown(e: Endpoint): boolean {
    return this.outages.get(e)?.down === true;
  }
}
