/** A watch event's line is rendered once for all its watchers when the event carries its time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStore } from '../store/support.js';
import { watchLineOf } from '../../src/routes/watch-lines.js';

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
