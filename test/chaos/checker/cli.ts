/**
 * Re-checks a saved history offline:
 *   node test/dist/chaos/checker/cli.js history.jsonl [--max-steps N] [--initial key=value ...]
 * Prints the verdict; exits 0 when linearizable, 1 when not, 3 when undecided (step budget), 2 on
 * bad usage or an unreadable history.
 */
import { readFileSync } from 'node:fs';
import { checkLinearizability, formatLinearizabilityResult } from './check-linearizability.js';
import { loadHistory } from './history-codec.js';

const usage = 'usage: cli.js history.jsonl [--max-steps N] [--initial key=value ...]';

function main(argv: readonly string[]): number {
  let file: string | undefined;
  let maxSteps: number | undefined;
  const initialValues: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--max-steps') {
      maxSteps = Number(argv[++i]);
      if (!Number.isSafeInteger(maxSteps) || maxSteps <= 0) return fail('--max-steps needs a positive integer');
    } else if (arg === '--initial') {
      const pair = argv[++i] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) return fail('--initial needs key=value');
      initialValues[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (file === undefined && !arg.startsWith('--')) {
      file = arg;
    } else {
      return fail(`unexpected argument ${arg}`);
    }
  }
  if (file === undefined) return fail('missing history file');
  const history = loadHistory(readFileSync(file, 'utf8'));
  const startedMs = performance.now();
  const result = checkLinearizability(history, { maxStepsPerPartition: maxSteps, initialValues });
  const elapsedMs = Math.round(performance.now() - startedMs);
  console.log(formatLinearizabilityResult(result));
  console.log(`${history.length} operations checked in ${elapsedMs}ms`);
  return result.verdict === 'linearizable' ? 0 : result.verdict === 'violation' ? 1 : 3;
}

function fail(message: string): number {
  console.error(`${message}\n${usage}`);
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 2;
}
