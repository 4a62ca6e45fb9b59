import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LostEntriesWatch } from '../../src/member/lost-entries-watch.js';

test('refusals that keep coming for the whole span end the member; one pause longer than the gap starts it again', () => {
  let now = 0;
  const watch = new LostEntriesWatch(5_000, 1_000, () => now);
  for (; now < 5_000; now += 100) assert.equal(watch.note(), false, `at ${now} ms`);
  assert.equal(watch.note(), true, 'at 5 s of refusals');

  const again = new LostEntriesWatch(5_000, 1_000, () => now);
  now = 0;
  for (; now <= 3_000; now += 100) again.note();
  now += 1_500; // a pause: a forged message now and then is not a leader's heartbeat
  for (const end = now + 4_900; now < end; now += 100) assert.equal(again.note(), false, `at ${now} ms`);
  now += 100;
  assert.equal(again.note(), true);
});
