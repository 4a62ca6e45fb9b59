import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Watcher } from '../../src/store/index.js';
import { T0, newStore } from './support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('10,000 idle watchers cost well under 1 KB each and leave nothing behind when closed', () => {
  const { store } = newStore();
  const count = 10_000;
  const listener = () => {};
  const before = heapUsed();
  const watchers: Watcher[] = [];
  for (let i = 0; i < count; i++) {
    const w = store.watch(`/jobs/${i % 100}`, { recursive: i % 2 === 0, stream: i % 3 === 0 });
    w.setListener(listener);
    watchers.push(w);
  }
  const perWatcher = (heapUsed() - before) / count;
  console.log(`# store-side memory per idle watcher: ${perWatcher.toFixed(0)} bytes`);
  assert.ok(perWatcher < 1024, `${perWatcher} bytes per watcher`);
  assert.equal(store.stats.watchers, count);

  // Closing is a Set delete per watcher (watcher-hub.ts); no wall-clock bound here, since tests
  // must not depend on the machine's speed or load.
  for (const w of watchers) w.close();
  assert.equal(store.stats.watchers, 0);
  store.set('/jobs/1', { value: 'x' }, T0);
  assert.ok(watchers.every((w) => w.pending === 0));
});
