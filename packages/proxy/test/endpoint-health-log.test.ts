/**
 * The proxy's log of member health (issue 17, item 22): a dead member is logged once when it goes
 * down, then reminded at growing intervals (1 min, 2 min, 4 min... at most 1 h apart) however often
 * it is tried again, and logged once when it answers again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointPool } from '../src/endpoint-pool.js';
import type { ProxyLogger } from '../src/logger.js';
import { MemberHealthLog } from '../src/member-health-log.js';
import { FIRST_REMINDER_MS, formatDuration, MAX_REMINDER_INTERVAL_MS, OutageLog } from '../src/outage-log.js';

/** A logger that keeps `level message member` lines. */
function recordingLogger(): { logger: ProxyLogger; lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push(`${level} ${msg} ${String(fields?.member ?? '')}`.trim());
  return { logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') }, lines };
}

test('a member failing after every failure wait for an hour is logged down once, reminded 5 times, back once', () => {
  let now = 0;
  const { logger, lines } = recordingLogger();
  const pool = new EndpointPool(5000, () => now, new MemberHealthLog(logger, 5000));
  pool.setUrls(['http://a:1', 'http://b:2']);
  const [a, b] = pool.all() as [ReturnType<typeof pool.all>[number], ReturnType<typeof pool.all>[number]];
  for (; now < 60 * 60_000; now += 5000) {
    pool.markFailed(a, 'ECONNREFUSED');
    pool.recordLatency(b, 1);
  }
  assert.deepEqual(lines.filter((l) => l.includes('is down')), ['warn member is down; skipping it, and trying it again after each failure wait http://a:1']);
  // Reminders 1, 3, 7, 15 and 31 minutes in (each interval twice the last): 5 in the first hour.
  assert.equal(lines.filter((l) => l.includes('still down')).length, 5);
  assert.ok(lines.every((l) => !l.includes('http://b:2')), 'a healthy member is never logged');
  pool.recordLatency(a, 2);
  pool.recordLatency(a, 2);
  assert.deepEqual(lines.slice(-1), ['info member is back http://a:1']);
  assert.equal(lines.filter((l) => l.includes('is back')).length, 1);
  // A second outage is logged again from the start.
  pool.markFailed(a);
  assert.equal(lines.filter((l) => l.includes('is down')).length, 2);
  pool.markHealthy('http://a:1'); // discovery got an answer from it
  assert.equal(lines.filter((l) => l.includes('is back')).length, 2);
});

test('reminders come at doubling intervals, never more than an hour apart', () => {
  const o = new OutageLog();
  assert.deepEqual(o.failed(0), { kind: 'down' });
  const reminders: number[] = [];
  for (let t = 1000; t <= 24 * 3600_000; t += 1000) if (o.failed(t)) reminders.push(t);
  assert.equal(reminders[0], FIRST_REMINDER_MS);
  assert.equal(reminders[1], FIRST_REMINDER_MS * 3);
  const gaps = reminders.slice(1).map((t, i) => t - reminders[i]!);
  assert.ok(gaps.every((g) => g <= MAX_REMINDER_INTERVAL_MS));
  assert.equal(gaps.at(-1), MAX_REMINDER_INTERVAL_MS);
  assert.ok(o.down);
  assert.deepEqual(o.succeeded(24 * 3600_000 + 1), { downForMs: 24 * 3600_000 + 1, failures: 24 * 3600 + 1 });
  assert.equal(o.succeeded(0), undefined);
  assert.equal(o.down, false);
});

test('durations read as 850ms, 42s, 12m30s, 3h5m', () => {
  assert.deepEqual([850, 42_000, 750_000, 11_100_000, 120_000].map(formatDuration), ['850ms', '42s', '12m30s', '3h5m', '2m']);
});
