/** Client workers run a few nice levels below the primary, never past Linux's lowest priority. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WORKER_NICE_OFFSET, workerNice } from '../../src/worker/worker-priority.js';

test('a worker is WORKER_NICE_OFFSET nicer than its primary, at most 19', () => {
  assert.equal(WORKER_NICE_OFFSET, 3);
  assert.equal(workerNice(0), 3);
  assert.equal(workerNice(-5), -2);
  assert.equal(workerNice(10), 13);
  assert.equal(workerNice(17), 19);
  assert.equal(workerNice(19), 19);
});
