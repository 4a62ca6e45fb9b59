/** A watch event's line is rendered once for all its watchers when the event carries its time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStore } from '../store/support.js';
import { keptWatchLines, watchLineOf } from '../../src/routes/watch-lines.js';

test('an event with its proposer\'s time renders once, the same at any time; one without is rendered each time', () => {
  const { store } = newStore();
  const a = store.watch('/k', {});
  const b = store.watch('/k', {});
  store.set('/k', { value: 'v'.repeat(1000), ttlSeconds: 60 }, 1_000_000);
  const [ea] = a.take();
  const [eb] = b.take();
  assert.ok(ea !== undefined && eb !== undefined);
  const first = watchLineOf(ea, 1_000_000);
  assert.equal(watchLineOf(eb, 1_030_000), first, 'the same text for every watcher, whenever it is written');
  assert.match(first, /"ttl":60/);
  assert.ok(first.endsWith('\n'));
  const parsed = JSON.parse(first) as { action: string; node: { value: string } };
  assert.equal(parsed.action, 'set');
});

test('only the latest events\' lines are kept: a bounded count, whatever the history holds', () => {
  const { store } = newStore();
  const watcher = store.watch('/k', { stream: true });
  for (let i = 0; i < 200; i++) store.set('/k', { value: `v${i}` }, 1_000_000);
  const events = watcher.take();
  assert.equal(events.length, 200);
  const lines = events.map((e) => watchLineOf(e, 1_000_000));
  assert.ok(keptWatchLines() <= 64, `${keptWatchLines()} kept`);
  // An evicted event renders the same text again.
  assert.equal(watchLineOf(events[0]!, 2_000_000), lines[0]);
  assert.equal(watchLineOf(events[199]!, 2_000_000), lines[199]);
});
