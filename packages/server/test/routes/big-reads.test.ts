/**
 * Admission of big reads: the first rendering step is the full one while a slot is free (or held),
 * and a small one once every slot is taken, since an answer past it waits and is read again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIG_READ_LIMITS, BigReads } from '../../src/routes/big-reads.js';

test('the first step is small only while every slot is taken and the read holds none', async () => {
  const reads = new BigReads({ ...BIG_READ_LIMITS, maxRunning: 2 });
  assert.equal(reads.firstStep(false), BIG_READ_LIMITS.firstStep);
  assert.ok(reads.tryAdmit());
  assert.equal(reads.firstStep(false), BIG_READ_LIMITS.firstStep, 'one slot still free');
  assert.ok(reads.tryAdmit());
  assert.equal(reads.firstStep(false), BIG_READ_LIMITS.busyFirstStep, 'every slot taken');
  assert.equal(reads.firstStep(true), BIG_READ_LIMITS.firstStep, 'a read holding a slot renders the full step');
  assert.ok(BIG_READ_LIMITS.busyFirstStep.maxChars * 32 <= BIG_READ_LIMITS.firstStep.maxChars);
  const waiting = reads.admitted();
  reads.release(); // handed to the waiter
  await waiting;
  assert.equal(reads.firstStep(false), BIG_READ_LIMITS.busyFirstStep);
  reads.release();
  assert.equal(reads.firstStep(false), BIG_READ_LIMITS.firstStep);
});
