/**
 * A warning that may repeat thousands of times a second (a refused connection, a failed accept):
 * logged at once, then at most once per interval with how many were left out meanwhile, so that a
 * flood is visible without the log becoming the next thing to exhaust. The clock is passed in
 * (protocol reads none); the member and the proxy share this.
 */

/** Where the warnings go (the member's and the proxy's loggers both fit). */
export interface WarningSink {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** See the module comment. */
export class LogThrottle {
  private lastMs = -Infinity;
  private suppressed = 0;

  /** `now`: a monotonic clock in milliseconds (performance.now). */
  constructor(private readonly logger: WarningSink, private readonly intervalMs: number, private readonly now: () => number) {}

  /** Logs `msg` as a warning unless one was logged less than the interval ago (then counts it). */
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    if (now - this.lastMs < this.intervalMs) return void this.suppressed++;
    this.lastMs = now;
    const left = this.suppressed;
    this.suppressed = 0;
    this.logger.warn(msg, left > 0 ? { ...fields, alsoSinceLastWarning: left } : fields);
  }
}
