/**
 * Durations on the command line, one rule for `deimos`, `deimos-proxy` and `deimosctl`: Go's
 * time.ParseDuration (what etcd's and etcdctl's duration flags take). A unit is required: `5s`,
 * `800ms`, `1m30s`, `1.5h`, `250us`; a bare number is refused, except `0`. (Before, a bare number
 * meant milliseconds to the servers and seconds to deimosctl: `deimos --timeout 1` was 1 ms.)
 */

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Examples shown in every duration error and help text. */
export const DURATION_EXAMPLES = '5s, 800ms, 1m30s';

/** A duration flag's value could not be parsed; `message` names the flag and gives examples. */
export class DurationError extends Error {
  readonly code = 'EINVALID_DURATION';

  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

/**
 * Parses `text` as a Go duration and returns milliseconds (fractions kept: `1500us` is 1.5).
 * `flag` (without dashes) names the flag in the error. Throws {@link DurationError}.
 */
export function parseGoDurationMs(text: string, flag: string): number {
  const trimmed = text.trim();
  const fail = (why: string): never => {
    throw new DurationError(`--${flag}: invalid duration ${JSON.stringify(text)}: ${why} (e.g. --${flag} 5s; units: ns, us, ms, s, m, h)`);
  };
  if (trimmed === '0' || trimmed === '+0' || trimmed === '-0') return 0;
  if (trimmed === '') fail('empty');
  if (/^[+-]?\d+(\.\d*)?$|^[+-]?\.\d+$/.test(trimmed)) fail('a unit is required');
  let rest = trimmed;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m) fail(/^(\d|\.)/.test(rest) ? 'unknown or missing unit' : 'not a duration');
    total += Number(m![1]) * UNIT_MS[m![2]!]!;
    rest = rest.slice(m![0].length);
  }
  return sign * total;
}

/**
 * The longest wait a Node timer takes (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms,
 * so `--timeout 1000h` meant "time every request out at once".
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A positive duration flag in whole milliseconds (at least 1) that a timer can wait: Go's rule
 * (see {@link parseGoDurationMs}), then refused when not positive or past {@link MAX_TIMER_MS}.
 * Throws {@link DurationError}; each tool turns it into its own usage error.
 */
export function parseTimerDurationMs(text: string, flag: string): number {
  const ms = parseGoDurationMs(text, flag);
  if (!(ms > 0)) throw new DurationError(`--${flag}: duration must be positive (e.g. --${flag} 5s)`);
  if (ms > MAX_TIMER_MS) throw new DurationError(`--${flag}: duration ${JSON.stringify(text)} is too long (at most ${MAX_TIMER_MS} ms, about 24 days)`);
  return Math.max(1, Math.round(ms));
}
