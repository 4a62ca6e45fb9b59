import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { heapTuningPlan } from '../src/heap-tuning.js';

test('with no heap flags from the user, both generations are tuned', () => {
  const all = { capYoung: true, oldFlags: ['--heap-growing-percent=20'] };
  assert.deepEqual(heapTuningPlan([], undefined), all);
  assert.deepEqual(heapTuningPlan(['--enable-source-maps'], '--require ./x.cjs'), all);
});

test('a young-generation size the user gave node replaces our cap', () => {
  assert.deepEqual(heapTuningPlan(['--max-semi-space-size=16'], undefined), { capYoung: false, oldFlags: ['--heap-growing-percent=20'] });
  assert.deepEqual(heapTuningPlan([], '--require ./x.cjs --max_semi_space_size=16'), { capYoung: false, oldFlags: ['--heap-growing-percent=20'] });
});

test('an old-generation limit the user gave node replaces our growth setting', () => {
  assert.deepEqual(heapTuningPlan([], '--max-old-space-size=4096'), { capYoung: true, oldFlags: [] });
  assert.deepEqual(heapTuningPlan(['--heap-growing-percent=50', '--semi-space-growth-factor=2'], undefined), { capYoung: false, oldFlags: [] });
});

test('the young generation stops growing at the cap, and collections are no longer observed once it has', () => {
  // Heap flags are the process's own: the check runs in a child.
  const script = `
    import { capYoungGeneration, watchingCollections, youngGenerationBytes } from ${JSON.stringify(new URL('../src/heap-tuning.js', import.meta.url).href)};
    const cap = 4 * 2 ** 20;
    capYoungGeneration(cap);
    const observedAtStart = watchingCollections();
    // In turns, as a server allocates: collections are reported between turns.
    let keep = [];
    for (let turn = 0; turn < 600; turn++) {
      for (let i = 0; i < 5000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(JSON.stringify({ observedAtStart, observedAfter: watchingCollections(), young: youngGenerationBytes(), cap }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const r = JSON.parse(out.trim()) as { observedAtStart: boolean; observedAfter: boolean; young: number; cap: number };
  assert.equal(r.observedAtStart, true, 'observed until the cap is reached');
  assert.ok(r.young <= r.cap, `young generation ${r.young} within the cap ${r.cap}`);
  assert.equal(r.observedAfter, false, 'no observer once growth is stopped');
});
