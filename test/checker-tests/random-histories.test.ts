import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizability } from '../chaos/checker/index.js';
import { corruptWithStaleRead, randomHistory } from './random-history.js';

test('accepts a 10-client, 2,000-operation history from a sequential model within a few seconds', () => {
  const ops = randomHistory({ seed: 7, clients: 10, operations: 2000, keys: 2, unknownRate: 0.02 });
  const startedMs = performance.now();
  const result = checkLinearizability(ops);
  const elapsedMs = performance.now() - startedMs;
  assert.equal(result.verdict, 'linearizable', JSON.stringify(result.partitions, null, 2));
  assert.ok(elapsedMs < 3000, `took ${elapsedMs}ms`);
});

test('accepts a 10-client, 2,000-operation history on a single key', () => {
  const ops = randomHistory({ seed: 11, clients: 10, operations: 2000, keys: 1, unknownRate: 0.02 });
  const startedMs = performance.now();
  const result = checkLinearizability(ops);
  const elapsedMs = performance.now() - startedMs;
  assert.equal(result.verdict, 'linearizable');
  assert.ok(elapsedMs < 3000, `took ${elapsedMs}ms`);
});

test('rejects a randomly corrupted version of the 2,000-operation history and names the corrupted read', () => {
  const ops = randomHistory({ seed: 7, clients: 10, operations: 2000, keys: 2, unknownRate: 0.02 });
  const corrupted = corruptWithStaleRead(ops, 99);
  assert.ok(corrupted !== undefined);
  const startedMs = performance.now();
  const result = checkLinearizability(ops);
  const elapsedMs = performance.now() - startedMs;
  assert.equal(result.verdict, 'violation');
  const bad = result.partitions.find((p) => p.verdict === 'violation');
  assert.equal(bad?.key, corrupted.key);
  assert.match(bad?.explanation ?? '', new RegExp(`#${corrupted.id} c${corrupted.clientId} read`));
  assert.ok(elapsedMs < 5000, `took ${elapsedMs}ms`);
});

test('rejects a history where one read returns a value never written', () => {
  const ops = randomHistory({ seed: 3, clients: 10, operations: 2000, keys: 2, unknownRate: 0.02 });
  const read = ops.find((op) => op.kind === 'read' && op.outcome === 'ok' && op.id > 1000);
  assert.ok(read !== undefined);
  read.output = { value: 'never-written' };
  const result = checkLinearizability(ops);
  assert.equal(result.verdict, 'violation');
  assert.match(result.partitions.find((p) => !p.ok)?.explanation ?? '', /observed 'never-written', a value no operation/);
});

test('classifies many small random histories: generated ones pass, corrupted ones fail', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const options = { seed, clients: 4, operations: 60, keys: 1, unknownRate: 0.1 };
    assert.equal(checkLinearizability(randomHistory(options)).verdict, 'linearizable', `seed ${seed}`);
    const ops = randomHistory(options);
    if (corruptWithStaleRead(ops, seed) === undefined) continue;
    assert.equal(checkLinearizability(ops).verdict, 'violation', `corrupted seed ${seed}`);
  }
});
