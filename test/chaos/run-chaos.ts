/**
 * The chaos CLI: `npm run chaos -- --duration 60 --seed N [--nodes 3|5] [--faults all|process|
 * network|membership|disk|stale|workers] [--broken] [--clients N] [--keys N] [--flood N]
 * [--client-workers N]` (--flood: idle connections of a conn-flood fault; --client-workers: worker
 * processes per member, default `DEIMOS_CLIENT_WORKERS` or 0, and with N > 0 the kill-worker and
 * pause-worker faults join the mix). Prints the fault schedule and the
 * verdict; exits 0 when no anomaly was found, 1 otherwise (the saved run's directory and the
 * replay command are printed), 2 on bad usage.
 */
import { runChaos, type ChaosOptions } from './chaos-run.js';
import { FAULT_MIXES } from './nemesis.js';

const usage = 'usage: run-chaos.js [--duration S] [--seed N] [--nodes 3|5] [--faults MIX] [--broken] [--clients N] [--keys N] [--flood N] [--client-workers N]';

function parse(argv: readonly string[]): ChaosOptions {
  const o: ChaosOptions = { seed: Date.now() % 100_000, durationSeconds: 60, nodes: 3, faults: 'all', broken: false, clients: 6, keys: 5 };
  const fromEnv = process.env['DEIMOS_CLIENT_WORKERS'];
  if (fromEnv !== undefined && fromEnv !== '') {
    o.clientWorkers = Number(fromEnv);
    if (!Number.isSafeInteger(o.clientWorkers) || o.clientWorkers < 0) throw new Error(`DEIMOS_CLIENT_WORKERS must be an integer >= 0 here (got ${fromEnv})`);
  }
  const int = (i: number, name: string, min: number): number => {
    const v = Number(argv[i]);
    if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} needs an integer >= ${min}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--duration': o.durationSeconds = int(++i, '--duration', 1); break;
      case '--seed': o.seed = int(++i, '--seed', 0); break;
      case '--nodes': o.nodes = int(++i, '--nodes', 3); break;
      case '--clients': o.clients = int(++i, '--clients', 1); break;
      case '--keys': o.keys = int(++i, '--keys', 1); break;
      case '--flood': o.floodConnections = int(++i, '--flood', 1); break;
      case '--client-workers': o.clientWorkers = int(++i, '--client-workers', 0); break;
      case '--faults': o.faults = argv[++i] ?? ''; break;
      case '--broken': o.broken = true; break;
      default: throw new Error(`unexpected argument ${argv[i]}`);
    }
  }
  if (o.nodes !== 3 && o.nodes !== 5) throw new Error('--nodes must be 3 or 5');
  if (!(o.faults in FAULT_MIXES)) throw new Error(`--faults must be one of ${Object.keys(FAULT_MIXES).join(', ')}`);
  return o;
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  options.log = (line) => console.log(line);
  const report = await runChaos(options);
  const mode = report.clientWorkers === 0 ? 'single-process members' : `${report.clientWorkers} client workers per member`;
  console.log(`\nmode: ${mode}`);
  console.log(`${report.operations} operations ${JSON.stringify(report.tally)}`);
  console.log(`${report.faults.length} faults, ${report.faultSeconds.toFixed(1)} s of faults:\n  ${report.faults.join('\n  ')}`);
  for (const note of report.notes) console.log(`note: ${note}`);
  if (report.linearizability) console.log(report.linearizability);
  if (report.ok) {
    console.log(`\nOK: seed ${options.seed}, ${mode}, no anomalies`);
    return 0;
  }
  console.log(`\nFAILED: seed ${options.seed}, ${mode}, ${report.anomalies.length} anomalies:`);
  for (const a of report.anomalies) console.log(`- ${a}`);
  console.log(`\nsaved to ${report.savedTo}\nreplay the check: node test/dist/chaos/checker/cli.js ${report.savedTo}/history.jsonl`);
  return 1;
}

process.exitCode = await main();
