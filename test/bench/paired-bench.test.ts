/**
 * The paired bench's arithmetic and report: medians, the alternating order of the rounds, and the
 * table built from per-round ratios (the runs themselves need etcd and are not part of the tests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, renderPaired, roundOrder, type PairedCase } from './paired-bench.js';

test('median of odd and even counts, whatever the input order', () => {
  assert.equal(median([3]), 3);
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([1.2, 0.8]), 1);
});

test('rounds alternate which server runs first', () => {
  assert.deepEqual(roundOrder(0, 'd', 'e'), ['d', 'e']);
  assert.deepEqual(roundOrder(1, 'd', 'e'), ['e', 'd']);
  assert.deepEqual(roundOrder(2, 'd', 'e'), ['d', 'e']);
});

test('the table shows medians of each server and of the per-round ratios, with their range', () => {
  const run = (requestsPerSecond: number, cpuMicrosPerRequest: number, errors = 0) => ({ requestsPerSecond, cpuMicrosPerRequest, errors });
  const cases: PairedCase[] = [{
    workload: 'write',
    clients: 64,
    deimos: [run(1200, 90), run(1000, 100, 2), run(1100, 95)],
    etcd: [run(1000, 140), run(1000, 150), run(500, 130)],
  }];
  const text = renderPaired(cases, { nodes: 1, pairs: 3, durationS: 5, warmupS: 1, valueBytes: 100 });
  const row = text.split('\n').find((l) => l.startsWith('| write |'));
  assert.equal(row, '| write | 64 | 1100 | 1000 | 1.20 | 1.00–2.20 | 95 | 140 | 2 |');
  assert.match(text, /paired runs, 1 node\b/);
});

test('a case whose etcd runs all failed shows no ratio instead of a number', () => {
  const cases: PairedCase[] = [{
    workload: 'read-linearizable',
    clients: 1,
    deimos: [{ requestsPerSecond: 900, cpuMicrosPerRequest: 80, errors: 0 }],
    etcd: [{ requestsPerSecond: 0, cpuMicrosPerRequest: 0, errors: 10 }],
  }];
  const row = renderPaired(cases, { nodes: 3, pairs: 1, durationS: 1, warmupS: 0, valueBytes: 10 }).split('\n').find((l) => l.startsWith('| read-linearizable |'));
  assert.equal(row, '| read-linearizable | 1 | 900 | 0 | — | — | 80 | 0 | 10 |');
});
