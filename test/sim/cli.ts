/**
 * `npm run sim`: runs simulation seeds and exits 1 if any fails.
 *
 *   npm run sim -- --seeds 200 --first-seed 1 [--nodes 3|5] [--ticks 600]
 *   SIM_SEED=42 npm run sim          replays one seed, printing every event
 *
 * Without --nodes, even seeds run 3 nodes and odd seeds 5, so a seed alone names a run.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CHAOS_TICKS, defaultNodeCount, formatFailure, replayCommand, runSimulation, type SimulationResult } from './simulation.js';

function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${text}'`);
  return n;
}

function summarize(results: SimulationResult[], elapsedMs: number): string {
  const sum = (f: (r: SimulationResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const failed = results.filter((r) => !r.ok);
  const lines = [
    `${results.length} runs, ${failed.length} failed, ${(elapsedMs / 1000).toFixed(1)} s (${(elapsedMs / Math.max(1, results.length)).toFixed(0)} ms/run)`,
    `  ${sum((r) => r.stats.commitIndex)} entries committed, ${sum((r) => r.stats.leaders)} leaders elected, `
      + `${sum((r) => r.stats.crashes)} crashes, ${sum((r) => r.stats.partitions)} partitions, `
      + `${sum((r) => r.stats.confChanges)} membership changes, ${sum((r) => r.stats.readsChecked)} reads checked`,
  ];
  if (failed.length > 0) lines.push(`  failing seeds: ${failed.map((r) => `${r.seed}/${r.nodeCount}n (${r.failure!.invariant})`).join(', ')}`);
  return lines.join('\n');
}

function replayOne(seed: number, nodes: number | undefined, ticks: number): number {
  const nodeCount = nodes ?? defaultNodeCount(seed);
  const result = runSimulation({ seed, nodeCount, chaosTicks: ticks, echo: (l) => console.log(l), traceTailLines: 0 });
  console.log(JSON.stringify({ config: result.config, stats: result.stats }, null, 2));
  if (result.ok) {
    console.log(`seed ${seed} (${nodeCount} nodes): all invariants held`);
    return 0;
  }
  console.log(formatFailure(result));
  return 1;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      'first-seed': { type: 'string' },
      nodes: { type: 'string' },
      ticks: { type: 'string' },
    },
  });
  const nodesText = values.nodes ?? process.env['SIM_NODES'];
  const nodes = nodesText === undefined ? undefined : parseCount('--nodes', nodesText, 3);
  if (nodes !== undefined && nodes < 1) throw new Error('--nodes must be at least 1');
  const ticks = parseCount('--ticks', values.ticks ?? process.env['SIM_TICKS'], DEFAULT_CHAOS_TICKS);
  const replay = process.env['SIM_SEED'];
  if (replay !== undefined && replay !== '') return replayOne(parseCount('SIM_SEED', replay, 0), nodes, ticks);

  const seeds = parseCount('--seeds', values.seeds, 100);
  const first = parseCount('--first-seed', values['first-seed'], 1);
  const results: SimulationResult[] = [];
  const started = performance.now();
  for (let seed = first; seed < first + seeds; seed++) {
    const nodeCount = nodes ?? defaultNodeCount(seed);
    const result = runSimulation({ seed, nodeCount, chaosTicks: ticks });
    results.push(result);
    if (!result.ok) console.log(`\n${formatFailure(result)}\n`);
    const done = results.length;
    if (done % 10 === 0 || done === seeds) {
      const failures = results.filter((r) => !r.ok).length;
      console.log(`${done}/${seeds} seeds, ${failures} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  console.log(summarize(results, performance.now() - started));
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) console.log(`replay: ${replayCommand(r)}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = main();
