import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, parseGoDurationMs } from '../src/flags/go-duration.js';

test('Go durations: units, fractions, compound values, signs and a bare 0', () => {
  const cases: Array<[string, number]> = [
    ['5s', 5_000], ['800ms', 800], ['1m30s', 90_000], ['1.5h', 5_400_000], ['2h45m', 9_900_000],
    ['250us', 0.25], ['250µs', 0.25], ['1500000ns', 1.5], ['.5s', 500], ['1.s', 1_000], ['-1s', -1_000], ['+2m', 120_000],
    ['0', 0], ['0s', 0], [' 5s ', 5_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDurationMs(text, 'timeout'), ms, text);
});

test('a bare number (but 0), an unknown unit or any other text is refused, naming the flag with an example', () => {
  for (const text of ['1', '100', '1.5', '', 'soon', '5x', '5 s', '1m30', 's', '5s5']) {
    assert.throws(() => parseGoDurationMs(text, 'dial-timeout'), (err: unknown) => err instanceof DurationError && /^--dial-timeout: invalid duration ".*": .* \(e\.g\. --dial-timeout 5s; units: ns, us, ms, s, m, h\)$/.test(err.message), text);
  }
  assert.throws(() => parseGoDurationMs('1', 'timeout'), /--timeout: invalid duration "1": a unit is required/);
});
