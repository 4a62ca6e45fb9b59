/**
 * When to log an outage that repeats its failure every few seconds (a dead member tried again after
 * each failure wait, a member list that no member answers): the first failure, then reminders at
 * growing intervals, and the recovery once. Logging every failure filled the log with one line per
 * failure wait for as long as a member stayed down, and said nothing when it came back.
 */

/** First reminder after an outage began; each later one comes twice as late. */
export const FIRST_REMINDER_MS = 60_000;
/** Reminders never come further apart than this. */
export const MAX_REMINDER_INTERVAL_MS = 60 * 60_000;

/** What a failure should log: the start of the outage, a reminder, or nothing. */
export type OutageFailureLog = { kind: 'down' } | { kind: 'still-down'; downForMs: number; failures: number } | undefined;

/** The outage state of one thing (a member, the member list). */
export class OutageLog {
  private downSinceMs: number | undefined;
  private failures = 0;
  private nextReminderMs = 0;
  private reminderIntervalMs = FIRST_REMINDER_MS;

  /** True between a failure and the next success. */
  get down(): boolean {
    return this.downSinceMs !== undefined;
  }

  /** Records a failure at `nowMs`; says what to log. */
  failed(nowMs: number): OutageFailureLog {
    this.failures += 1;
    if (this.downSinceMs === undefined) {
      this.downSinceMs = nowMs;
      this.reminderIntervalMs = FIRST_REMINDER_MS;
      this.nextReminderMs = nowMs + this.reminderIntervalMs;
      return { kind: 'down' };
    }
    if (nowMs < this.nextReminderMs) return undefined;
    this.reminderIntervalMs = Math.min(this.reminderIntervalMs * 2, MAX_REMINDER_INTERVAL_MS);
    this.nextReminderMs = nowMs + this.reminderIntervalMs;
    return { kind: 'still-down', downForMs: nowMs - this.downSinceMs, failures: this.failures };
  }

  /** Records a success at `nowMs`: the outage it ends (to log), or undefined when there was none. */
  succeeded(nowMs: number): { downForMs: number; failures: number } | undefined {
    if (this.downSinceMs === undefined) return undefined;
    const ended = { downForMs: nowMs - this.downSinceMs, failures: this.failures };
    this.downSinceMs = undefined;
    this.failures = 0;
    return ended;
  }
}

/** `ms` as a short duration for a log line: `850ms`, `42s`, `12m30s`, `3h5m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}
