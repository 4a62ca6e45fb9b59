/** The append rates of /v2/stats/self (etcd's statsQueue rules). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppendRate } from '../../src/member/append-rate.js';

test('a rate is the appends and bytes per second over the last 200, while the newest is under a second old', () => {
  let now = 10_000;
  const rate = new AppendRate(() => now);
  assert.equal(rate.rate(), undefined, 'none yet');
  rate.note(100);
  assert.equal(rate.rate(), undefined, 'one append spans no time');
  for (let i = 1; i <= 4; i++) {
    now += 250;
    rate.note(100);
  }
  // Five appends of 100 bytes over one second.
  assert.deepEqual(rate.rate(), { packages: 5, bytes: 500 });
  assert.equal(rate.count, 5);
  now += 1001;
  assert.equal(rate.rate(), undefined, 'a second after the last append there is none');
  now += 10;
  rate.note(50);
  assert.equal(rate.rate(), undefined, 'the old samples were dropped');
  assert.equal(rate.count, 6, 'the count stays');
});

test('only the last 200 appends count, their bytes included', () => {
  let now = 0;
  const rate = new AppendRate(() => now);
  for (let i = 0; i < 300; i++) {
    rate.note(i < 100 ? 1_000_000 : 10);
    now += 10;
  }
  now -= 10;
  // The last 200 (10 bytes each) span 1.99 s.
  const r = rate.rate()!;
  assert.ok(Math.abs(r.packages - 200 / 1.99) < 1e-9, String(r.packages));
  assert.ok(Math.abs(r.bytes - 2000 / 1.99) < 1e-9, String(r.bytes));
  assert.equal(rate.count, 300);
});
