/**
 * The short chaos schedule CI runs on every push: a few seeded runs on 3-member clusters with
 * different fault mixes that must find no anomaly, and one run against the deliberately broken
 * server (linearizable reads served locally) that must be caught, proving the suite can fail.
 * One run has client worker processes on (`--client-workers 2`, docs/multi-core.md): its workers
 * are killed and paused as well as its members; the others run single-process members.
 * The long schedule is `npm run chaos -- --duration 600 --seed N` on demand.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { runChaos, type ChaosOptions, type ChaosReport } from './chaos-run.js';
import { smallDiskUnavailable } from '../support/small-disk.js';

const base: ChaosOptions = { seed: 0, durationSeconds: 25, nodes: 3, faults: 'all', broken: false, clients: 6, keys: 5 };

async function run(t: TestContext, options: Partial<ChaosOptions>): Promise<ChaosReport> {
  const lines: string[] = [];
  const report = await runChaos({ ...base, ...options, log: (line) => lines.push(line) });
  // The schedule and verdict go to the test's diagnostics, so a CI failure explains itself.
  for (const line of [...lines, ...report.faults.map((f) => `fault: ${f}`), ...report.anomalies]) t.diagnostic(line);
  return report;
}

function assertClean(report: ChaosReport, mustInclude: string): void {
  assert.ok(report.operations > 200, `too few operations (${report.operations}) for the run to mean anything`);
  assert.ok(report.faultSeconds >= 5, `too little fault time: ${report.faults.join('; ')}`);
  assert.ok(report.faults.some((f) => f.includes(mustInclude)), `no ${mustInclude} fault in: ${report.faults.join('; ')}`);
  assert.deepEqual(report.anomalies, [], `anomalies found; saved to ${report.savedTo}`);
}

test('a cluster under process faults (kill -9, pause, slow disk, thousands of idle connections) stays linearizable with complete watches', { timeout: 120_000 }, async (t) => {
  const report = await run(t, { seed: 101, faults: 'process', firstFaults: ['kill', 'conn-flood'], floodConnections: 2_000 });
  assertClean(report, 'kill');
  // The flood was real: a member held past its connection limit refused connections and survived.
  const flood = report.faults.find((f) => f.includes('conn-flood'));
  assert.ok(flood !== undefined, `no conn-flood fault in: ${report.faults.join('; ')}`);
  assert.doesNotMatch(flood, /ERROR/);
  assert.match(flood, /held by \d{4} idle connections: \d+ parked, [1-9]\d* refused/);
});

test('a cluster under network faults (partitions, isolated leader, one-way loss, slow links, snapshot catch-up) stays linearizable', { timeout: 120_000 }, async (t) => {
  assertClean(await run(t, { seed: 202, faults: 'network', durationSeconds: 30, firstFaults: ['snapshot-isolation'] }), 'snapshot-isolation');
});

test('a cluster under membership changes (remove and re-add) and kills stays linearizable and converges', { timeout: 120_000 }, async (t) => {
  assertClean(await run(t, { seed: 303, faults: 'membership', firstFaults: ['membership'] }), 'membership');
});

test('a cluster whose members\' disks fill up (and kills, pauses) stays linearizable, loses nothing, and no member crashes', { timeout: 120_000, skip: smallDiskUnavailable() ?? false }, async (t) => {
  const report = await run(t, { seed: 505, faults: 'disk', durationSeconds: 20, firstFaults: ['disk-full', 'disk-full'] });
  assertClean(report, 'disk-full');
  const diskFaults = report.faults.filter((f) => f.includes('disk-full'));
  assert.deepEqual(diskFaults.filter((f) => f.includes('ERROR')), [], 'a member failed while its disk was full');
  const alarms = report.notes.map((n) => Number(/NOSPACE alarms raised (\d+)/.exec(n)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
  assert.ok(alarms >= 1, `no member raised its NOSPACE alarm: the full disk did not bite (${report.notes.join('; ')})`);
});

test('a cluster whose members serve clients from worker processes stays linearizable when workers are killed and paused', { timeout: 120_000 }, async (t) => {
  const report = await run(t, { seed: 606, faults: 'workers', clientWorkers: 2, durationSeconds: 20, firstFaults: ['kill-worker', 'pause-worker'] });
  assert.equal(report.clientWorkers, 2);
  assertClean(report, 'kill-worker');
  // Every fault went as planned: each worker fault found a worker to hit, the member started a
  // killed worker again, and no worker outlived its member's kill -9.
  assert.deepEqual(report.faults.filter((f) => f.includes('ERROR')), [], 'a fault failed');
  const workerFaults = report.faults.filter((f) => f.includes('-worker '));
  assert.ok(workerFaults.some((f) => /kill-worker .*: workers again \d+,\d+/.test(f)), `no killed worker was started again: ${workerFaults.join('; ')}`);
  assert.ok(workerFaults.some((f) => f.includes('pause-worker')), `no pause-worker fault in: ${report.faults.join('; ')}`);
});

test('the suite catches a server that serves linearizable reads locally', { timeout: 120_000 }, async (t) => {
  // A member cut off from the others keeps answering reads locally in broken mode while the rest
  // write: the partition and the isolated leader come first, so the stale window surely happens
  // (a paused member answers nothing, so pauses alone can leave nothing to catch).
  const report = await run(t, { seed: 404, faults: 'stale', broken: true, durationSeconds: 15, firstFaults: ['partition', 'isolate-leader'] });
  assert.ok(!report.ok, 'the broken server passed the chaos checks');
  assert.ok(report.anomalies.some((a) => a.startsWith('history is not linearizable')), `no linearizability violation among: ${report.anomalies.join('\n')}`);
});
