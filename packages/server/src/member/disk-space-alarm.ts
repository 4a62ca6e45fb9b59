/**
 * The NOSPACE alarm of one member, after etcd's: raised when the disk had no room for a write
 * (the WAL, its zero-fill ahead or a segment cut, the state database written behind, a snapshot),
 * cleared by the member itself once everything that waited for space went through again.
 *
 * While it is raised the member refuses new proposals (writes answer etcd's 300 with
 * {@link NO_SPACE_CAUSE}) so that the room left, at least the WAL's preallocated zeros, goes to
 * raft's own writes (hard states, entries already accepted) and reads keep their ReadIndex rounds.
 * Nothing acknowledged is at risk: an entry is acknowledged only once durable in the WAL, the
 * database lagging behind is replayed from the WAL on restart, and compaction never releases WAL
 * segments the database does not cover (it flushes first and gives up when that fails).
 */
import { isNoSpaceError } from '../util/no-space.js';
import type { Logger } from '../util/logger.js';

/** How often a raised alarm tries again what waited for space. */
export const NO_SPACE_RETRY_MS = 500;

/** Options of a {@link DiskSpaceAlarm}. */
export interface DiskSpaceAlarmOptions {
  logger: Logger;
  /** Tries again everything that waited for space; throws a no-space error while something still cannot. */
  recover: () => void;
  /** Time between tries while raised (default {@link NO_SPACE_RETRY_MS}). */
  retryMs?: number;
}

/** See the module comment. */
export class DiskSpaceAlarm {
  private timer: NodeJS.Timeout | undefined;
  private raisedCount = 0;

  constructor(private readonly opts: DiskSpaceAlarmOptions) {}

  /** True while the alarm is raised. */
  get active(): boolean {
    return this.timer !== undefined;
  }

  /** Times the alarm was raised since the start (for the metrics). */
  get raisedTotal(): number {
    return this.raisedCount;
  }

  /** Raises the alarm (no-op when raised); `source` names what ran out of space, for the log. */
  raise(source: string, err: unknown): void {
    if (this.timer !== undefined) return;
    this.raisedCount++;
    this.opts.logger.error('disk full: NOSPACE alarm raised, writes are refused until space returns', {
      source, error: (err as Error)?.message ?? String(err),
    });
    this.timer = setInterval(() => this.retry(), this.opts.retryMs ?? NO_SPACE_RETRY_MS);
  }

  /** Stops retrying (shutdown). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private retry(): void {
    try {
      this.opts.recover();
    } catch (err) {
      // Anything but a full disk is a real failure, and crashes as it would have without the alarm.
      if (!isNoSpaceError(err)) throw err;
      return;
    }
    this.stop();
    this.opts.logger.info('space returned: NOSPACE alarm cleared, writes are accepted again');
  }
}
