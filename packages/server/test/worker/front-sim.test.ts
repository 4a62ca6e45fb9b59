/**
 * The front-end simulation (front-sim/): seeded runs of the primary's ClientHub and several
 * workers' RemoteMembers over links that cut and delay bytes, with worker crashes, checked against
 * the events the primary applied. FRONT_SIM_SEEDS=N runs N seeds instead of the fixed ones
 * (FRONT_SIM_FIRST_SEED: the first), for longer searches.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FRONT_SIM, runFrontSimulation } from './front-sim/front-simulation.js';
import { checkHistory, type OpRecord, type WatchRecord } from './front-sim/sim-history.js';
import type { StoreEvent } from '../../src/store/index.js';

const count = Number(process.env.FRONT_SIM_SEEDS ?? 0);
const first = Number(process.env.FRONT_SIM_FIRST_SEED ?? 1);
const seeds = count > 0 ? Array.from({ length: count }, (_, i) => first + i) : [1, 2, 3, 4, 5, 6, 7, 8];

describe('front-end simulation', () => {
  for (const seed of seeds) {
    test(`seed ${seed}: answers, reads across workers and watches agree with what was applied`, async () => {
      const report = await runFrontSimulation({ seed, ...DEFAULT_FRONT_SIM });
      assert.deepEqual(report.problems, [], `seed ${seed}`);
      // The run did what it is for (a run that answered nothing would pass trivially).
      const answered = report.ops.filter((op) => op.completedAt !== undefined);
      assert.ok(answered.length > report.ops.length / 2, `seed ${seed}: ${answered.length} of ${report.ops.length} answered`);
      assert.ok(report.applied > 20, `seed ${seed}: ${report.applied} writes applied`);
      assert.ok(report.watches.length > 0, `seed ${seed}: no watch opened`);
    });
  }

  test('with frequent worker crashes, nothing answered is wrong', async () => {
    const crashy = await runFrontSimulation({ seed: 11, ...DEFAULT_FRONT_SIM, crashChance: 0.05 });
    assert.ok(crashy.crashes > 2, `${crashy.crashes} crashes`);
    assert.ok(crashy.ops.some((op) => op.completedAt === undefined), 'some operation was cut off by a crash');
    assert.deepEqual(crashy.problems, []);
  });

  test('with the primary reloading its keyspace (snapshot installs), reads stay exact and watches end cleared or stay whole', async () => {
    const report = await runFrontSimulation({ seed: 12, ...DEFAULT_FRONT_SIM, resetChance: 0.02 });
    assert.ok(report.resets > 2, `${report.resets} resets`);
    assert.ok(report.watches.some((w) => w.ended), 'some watch was cleared');
    assert.deepEqual(report.problems, []);
  });
});

describe('the simulation\'s checks', () => {
  const event = (index: number, action: 'set' | 'delete', key: string, value?: string): StoreEvent =>
    ({ action, index, node: { key, value, dir: false, modifiedIndex: index, createdIndex: index }, refresh: false });
  const events = [event(1, 'set', '/sim/k0', 'a'), event(2, 'set', '/sim/k0', 'b'), event(3, 'delete', '/sim/k0')];
  const write: OpRecord = { client: 0, worker: 0, kind: 'set', key: '/sim/k0', value: 'b', invokedAt: 0, completedAt: 1, status: 200, etcdIndex: 2, body: { action: 'set', node: { key: '/sim/k0', value: 'b', modifiedIndex: 2 } } };
  const read = (at: number, value: string | undefined, modifiedIndex: number, invokedAt = 2): OpRecord => (value === undefined
    ? { client: 1, worker: 1, kind: 'get', key: '/sim/k0', invokedAt, completedAt: invokedAt + 1, status: 404, etcdIndex: at, body: { errorCode: 100, index: at } }
    : { client: 1, worker: 1, kind: 'get', key: '/sim/k0', invokedAt, completedAt: invokedAt + 1, status: 200, etcdIndex: at, body: { node: { key: '/sim/k0', value, modifiedIndex } } });

  test('a correct history passes', () => {
    assert.deepEqual(checkHistory([write, read(2, 'b', 2), read(3, undefined, 0, 4)], [], events), []);
  });

  test('a read older than a write completed before it began is found', () => {
    const problems = checkHistory([write, read(1, 'a', 1)], [], events);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /older than/);
  });

  test('a read whose value is not the keyspace\'s at its index is found', () => {
    assert.match(checkHistory([write, read(2, 'a', 1)], [], events)[0]!, /the keyspace had b@2/);
    assert.match(checkHistory([read(3, 'b', 2, 0)], [], events)[0]!, /the keyspace had undefined/);
  });

  test('a watch with a gap, a repeat, or missing its tail is found', () => {
    const watch = (got: StoreEvent[], ended = false): WatchRecord => ({ client: 0, worker: 0, fromIndex: 1, got, ended });
    assert.deepEqual(checkHistory([], [watch(events), watch(events.slice(0, 1), true)], events), []);
    assert.equal(checkHistory([], [watch([events[0]!, events[2]!])], events).length, 1);
    assert.equal(checkHistory([], [watch([events[0]!, events[0]!, events[1]!, events[2]!])], events).length, 1);
    assert.equal(checkHistory([], [watch(events.slice(0, 2))], events).length, 1, 'a live watch must have every event');
  });
});
