import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalSort } from '../../src/store/incremental-sort.js';

test('an incremental sort gives the stable sorted order whatever the step budgets', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (const n of [0, 1, 63, 64, 65, 200, 1000, 4097]) {
    for (const budget of [1, 7, 100, 100_000]) {
      // Pairs [key, original position]: equal keys must keep their order.
      const items = Array.from({ length: n }, (_, i) => [Math.floor(random() * (n / 3 + 1)), i] as const);
      const expected = [...items].sort((a, b) => a[0] - b[0]);
      const sorter = new IncrementalSort([...items], (a, b) => a[0] - b[0]);
      let steps = 0;
      while (!sorter.step(budget)) steps++;
      assert.deepEqual(sorter.result, expected, `n=${n} budget=${budget}`);
      if (budget === 1 && n > 64) assert.ok(steps > n, 'small budgets take many steps');
    }
  }
});
