import { DurationError, parseGoDurationMs } from '@deimos/protocol';
import { usageError } from './ctl-error.js';

/**
 * Parses a positive duration flag in whole milliseconds with the rule of every Deimos tool (Go's
 * time.ParseDuration, as etcdctl): a unit is required (`500ms`, `5s`, `1m30s`); a bare number is a
 * usage error naming the flag (it used to mean seconds here but milliseconds to the servers).
 */
export function parseDurationMs(text: string, flag = 'timeout'): number {
  let ms: number;
  try {
    ms = parseGoDurationMs(text, flag);
  } catch (err) {
    if (err instanceof DurationError) throw usageError(err.message);
    throw err;
  }
  if (!(ms > 0)) throw usageError(`--${flag}: duration must be positive (e.g. --${flag} 5s)`);
  return Math.max(1, Math.round(ms));
}
