/**
 * The CI slice of the raft simulation: a fixed range of seeds over 3- and 5-node clusters, every
 * safety invariant checked at every step and liveness after healing; plus runs against deliberately
 * broken servers, which prove the checks can fail. Replay a failing seed with `SIM_SEED=n npm run sim`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Sabotage } from './sim-node.js';
import { defaultNodeCount, formatFailure, runSimulation, type SimulationResult } from './simulation.js';
import type { Invariant } from './violation.js';

/** Seeds 1..240: even seeds run 3 nodes, odd seeds 5 (120 runs each). */
const FIRST_SEED = 1;
const SEEDS = 240;

describe('raft simulation', () => {
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    const nodeCount = defaultNodeCount(seed);
    test(`seed ${seed} on ${nodeCount} nodes keeps every invariant and recovers after healing`, () => {
      const result = runSimulation({ seed, nodeCount });
      assert.ok(result.ok, formatFailure(result));
    });
  }
});

function firstFailure(sabotage: Sabotage, seeds: number): SimulationResult | undefined {
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runSimulation({ seed, nodeCount: defaultNodeCount(seed), sabotage, chaosTicks: 300 });
    if (!result.ok) return result;
  }
  return undefined;
}

function assertCaught(sabotage: Sabotage, expected: readonly (Invariant | RegExp)[]): void {
  const failed = firstFailure(sabotage, 30);
  assert.ok(failed !== undefined, `no seed in 1..30 caught the '${sabotage}' server bug`);
  const f = failed.failure!;
  const matches = expected.some((e) => (typeof e === 'string' ? f.invariant === e : e.test(f.message)));
  assert.ok(matches, `the '${sabotage}' bug was caught for the wrong reason: ${f.message}`);
}

describe('the simulator catches broken servers', () => {
  test('a server that forgets its vote on restart is caught voting twice in one term', () => {
    assertCaught('forget-vote', ['vote-once-per-term', 'election-safety']);
  });

  test('a server that acknowledges entries before persisting them is caught losing them', () => {
    // The core's own check (a heartbeat's commit beyond the follower's log: refused before it
    // is stepped, or the log's assertion) usually fires first.
    assertCaught('ack-before-persist', ['committed-entry-lost', 'state-machine-safety', 'leader-completeness', /commit \d+ is (out of range|past this log)/]);
  });

  test('a server that answers reads before applying the read index is caught serving stale reads', () => {
    assertCaught('serve-reads-early', ['linearizable-read']);
  });

  test('the same seed replays the same run event for event', () => {
    const run = (): { lines: string[]; result: SimulationResult } => {
      const lines: string[] = [];
      const result = runSimulation({ seed: 7, nodeCount: 5, chaosTicks: 200, echo: (l) => lines.push(l) });
      return { lines, result };
    };
    const a = run();
    const b = run();
    assert.ok(a.lines.length > 100);
    assert.deepEqual(b.lines, a.lines);
    assert.deepEqual(b.result.stats, a.result.stats);
  });
});
