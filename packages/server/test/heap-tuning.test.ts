import { test } from 'node:test';
import assert from 'node:assert/strict';
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
