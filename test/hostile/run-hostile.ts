/**
 * The hostile-client CLI: `npm run hostile -- [--seed N] [--runs N] [--batch N] [--restart-every N]
 * [--path P] [--no-raw-in-batches]`. Prints progress, each failure (seed, replay path, shrunk counterexample) and the
 * members' last output; exits 0 when nothing was found, 1 otherwise, 2 on bad usage.
 */
import { DEFAULT_HOSTILE_OPTIONS, runHostile, type HostileOptions } from './hostile-run.js';

const usage = 'usage: run-hostile.js [--seed N] [--runs N] [--batch N] [--restart-every N] [--path P] [--no-raw-in-batches]';

function parse(argv: readonly string[]): Partial<HostileOptions> {
  const o: Partial<HostileOptions> = { seed: Date.now() % 1_000_000, runs: 200, restartEvery: 50 };
  const int = (i: number, name: string, min: number): number => {
    const v = Number(argv[i]);
    if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} needs an integer >= ${min}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--seed': o.seed = int(++i, '--seed', -(2 ** 31)); break;
      case '--runs': o.runs = int(++i, '--runs', 1); break;
      case '--batch': o.maxBatch = int(++i, '--batch', 1); break;
      case '--restart-every': o.restartEvery = int(++i, '--restart-every', 1); break;
      case '--path': o.path = argv[++i] ?? ''; break;
      case '--no-raw-in-batches': o.rawInBatches = false; break;
      default: throw new Error(`unexpected argument ${argv[i]}`);
    }
  }
  return o;
}

async function main(): Promise<number> {
  let options: Partial<HostileOptions>;
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const seed = options.seed ?? DEFAULT_HOSTILE_OPTIONS.seed;
  const report = await runHostile({ ...options, log: (line) => console.log(line) });
  if (report.ok) {
    console.log(`\nOK: seed ${seed}, ${report.steps} steps, no crash, hang or malformed answer`);
    return 0;
  }
  console.log(`\nFAILED: seed ${seed}, ${report.failures.length} failures:\n`);
  for (const f of report.failures) console.log(`- ${f}\n`);
  console.log(`members' last output:\n${report.outputs}`);
  return 1;
}

process.exitCode = await main();
