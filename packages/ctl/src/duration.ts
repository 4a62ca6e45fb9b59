import { DurationError, parseTimerDurationMs } from '@deimos/protocol';
import { usageError } from './ctl-error.js';

/**
 * Parses a positive duration flag in whole milliseconds with the rule of every Deimos tool (Go's
 * time.ParseDuration, as etcdctl): a unit is required (`500ms`, `5s`, `1m30s`); a bare number is a
 * usage error naming the flag (it used to mean seconds here but milliseconds to the servers).
 */
export function parseDurationMs(text: string, flag = 'timeout'): number {
  try {
    return parseTimerDurationMs(text, flag);
  } catch (err) {
    if (err instanceof DurationError) throw usageError(err.message);
    throw err;
  }
}
