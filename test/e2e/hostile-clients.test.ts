/**
 * The hostile-client suite in CI (issue 16): every raw framing case against every member, then a
 * fixed-seed run of fast-check batches of hostile keys, members, stats and info requests against a
 * real 3-member cluster, then a rolling restart of every member and equal keyspace hashes. No
 * request may take a member down, hang, or get a malformed answer. Longer runs:
 * `npm run hostile -- --seed N --runs N`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHostile } from '../hostile/hostile-run.js';

test('hostile requests and framing never crash, hang or get a malformed answer, and every member restarts to the same keyspace', { timeout: 300_000 }, async (t) => {
  const report = await runHostile({ seed: 16, runs: 60, restartEvery: 60, chunkTimeLimitMs: 120_000, log: (line) => t.diagnostic(line) });
  assert.ok(report.ok, `hostile clients found ${report.failures.length} failures (seed 16; replay: npm run hostile -- --seed 16 --runs 60):\n\n${report.failures.join('\n\n')}\n\nmembers' last output:\n${report.outputs}`);
  assert.ok(report.steps > 300, `too few steps (${report.steps}) for the run to mean anything`);
});
