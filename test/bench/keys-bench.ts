/**
 * `npm run bench`: the v2 keys API of a deimos node (or cluster) against etcd 3.4 `--enable-v2` when
 * `etcd` is on the PATH, measured over loopback keep-alive HTTP in the same run. Prints Markdown and
 * optionally writes a JSON summary. Run with `--help` for the options.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startTarget, findLeader, type BenchTarget, type BenchTls, type ServerKind } from './bench-target.js';
import { TestCerts } from '../support/tls-certs.js';
import { measureCeiling } from './ceiling.js';
import { findOnPath } from '../support/find-on-path.js';
import { runKeysSuite, type SuiteOptions, type Workload } from './keys-suite.js';
import { allowedCpus, formatCpuList, machineInfo, openFilesLimit, parseCpuList, planMemberCpus } from './process-stats.js';
import { computeRatios, computeTlsOverPlain, renderMarkdown, type BenchReport, type Placement, type TargetReport, type TlsReport } from './report.js';
import { measureWatcherMemory } from './watcher-memory.js';
import { http } from '../support/http.js';
import { runProxyBench } from './proxy-bench.js';
import { runAuthBench } from './auth-bench.js';
import { runPairedBench } from './paired-bench.js';

const HELP = `Usage: npm run bench -- [options]

  --duration S       seconds per measured run (default 5)
  --warmup S         warm-up seconds before each case (default 1)
  --runs N           runs per case, the best is kept (default 2)
  --value-bytes N    value size of the writes (default 100)
  --nodes N          cluster size of both servers (default 1; 3 measures writes x1/x64, reads x64 and
                     the leader RSS after --bulk-writes keys)
  --bulk-writes N    keys to write before the leader RSS reading (default 100000 with --nodes > 1)
  --bulk-timeout S   time bound of the bulk writes (default 300)
  --bulk-settle S    idle seconds after the bulk writes before a second, settled leader RSS reading
                     (default 10)
  --watchers N       instead of throughput: RSS per idle long-poll watcher with N watchers
  --only KIND        deimos or etcd
  --json FILE        write the JSON summary there
  --paired N         deimos and etcd side by side, each case measured in N alternating rounds (one
                     run of each per round, order flipped every round); reports the median and
                     range of the per-round deimos/etcd ratios (needs etcd on the PATH; uses
                     --nodes, --duration, --warmup, --value-bytes, --json; no RSS readings)
  --proxy            instead: one deimos member directly vs through a deimos-proxy process in front
                     of it (writes x1/x64, linearizable reads x1/x64, serializable reads x64), with
                     the proxy/direct ratio per case (uses --duration, --warmup, --runs, --json)
  --clients LIST     client counts of the throughput cases, e.g. 1,64,256 (each workload at each
                     count; at most 256); default 1,64 for one node, and writes x1/x64 with reads x64
                     for --nodes > 1
  --cpus-per-member K  start each member under taskset -c with K CPUs of its own, taken in order from
                     the bench's CPUs less --load-cpus; with too few CPUs the lists wrap around and
                     the report says the members share
  --load-cpus LIST   pin the bench itself (the load generator) to these CPUs (taskset list, 0-3,8)
  --load-threads N   spread the load connections over N worker threads (default 1), so that the load
                     generator is not the ceiling on many cores
  --client-workers N client-serving workers per deimos member, passed as DEIMOS_CLIENT_WORKERS in the
                     members' environment (a member that does not know it yet ignores it)
  --auth             instead: writes and reads x64 without auth, then with auth enabled and every
                     request authenticated (HTTP Basic), on deimos and etcd in the same run, with the
                     auth/no-auth ratio (target >= 0.9) and deimos/etcd with auth (uses --nodes,
                     --duration, --warmup, --runs, --value-bytes, --json; --only deimos leaves
                     etcd out)
  --tls              also run every throughput case over https (client connections only; a CA and a
                     server certificate for 127.0.0.1 made with deimosctl cert for the run) and report
                     the TLS/plain ratios, and the harness ceiling over https
`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      runs: { type: 'string', default: '2' },
      'value-bytes': { type: 'string', default: '100' },
      nodes: { type: 'string', default: '1' },
      'bulk-writes': { type: 'string' },
      'bulk-timeout': { type: 'string', default: '300' },
      'bulk-settle': { type: 'string', default: '10' },
      watchers: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      paired: { type: 'string' },
      proxy: { type: 'boolean', default: false },
      auth: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      clients: { type: 'string' },
      'cpus-per-member': { type: 'string' },
      'load-cpus': { type: 'string' },
      'load-threads': { type: 'string', default: '1' },
      'client-workers': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, not ${v}`);
    return n;
  };
  const nodes = num('nodes', values.nodes, 1);
  if (values.only && values.only !== 'deimos' && values.only !== 'etcd') throw new Error('--only takes deimos or etcd');
  const clients = values.clients === undefined ? undefined : values.clients.split(',').map((c) => {
    const n = num('clients', c, 1);
    if (!Number.isInteger(n) || n > MAX_CLIENTS) throw new Error(`--clients takes whole numbers from 1 to ${MAX_CLIENTS}, not ${c}`);
    return n;
  });
  return {
    help: values.help,
    proxy: values.proxy,
    auth: values.auth,
    pairs: values.paired === undefined ? undefined : Math.floor(num('paired', values.paired, 1)),
    tls: values.tls,
    durationS: num('duration', values.duration, 0.1),
    warmupS: num('warmup', values.warmup, 0),
    runs: Math.floor(num('runs', values.runs, 1)),
    valueBytes: Math.floor(num('value-bytes', values['value-bytes'], 1)),
    nodes: Math.floor(nodes),
    bulkWrites: Math.floor(num('bulk-writes', values['bulk-writes'] ?? (nodes > 1 ? '100000' : '0'), 0)),
    bulkTimeoutS: num('bulk-timeout', values['bulk-timeout'], 1),
    bulkSettleS: num('bulk-settle', values['bulk-settle'], 0),
    watchers: values.watchers === undefined ? undefined : Math.floor(num('watchers', values.watchers, 1)),
    only: values.only as ServerKind | undefined,
    json: values.json,
    clients,
    cpusPerMember: values['cpus-per-member'] === undefined ? undefined : Math.floor(num('cpus-per-member', values['cpus-per-member'], 1)),
    loadCpus: values['load-cpus'] === undefined ? undefined : parseCpuList(values['load-cpus']),
    loadThreads: Math.floor(num('load-threads', values['load-threads'], 1)),
    clientWorkers: values['client-workers'] === undefined ? undefined : Math.floor(num('client-workers', values['client-workers'], 0)),
  };
}

/** Most clients a case may have (the issue's largest case; the bench's sockets must fit the open-files limit). */
const MAX_CLIENTS = 256;
type Options = ReturnType<typeof parseOptions>;

const log = (line: string) => process.stderr.write(`${line}\n`);
const live = new Set<BenchTarget>();

function suiteCases(nodes: number, clients: number[] | undefined): { workload: Workload; clients: number }[] {
  const all: Workload[] = ['write', 'read-linearizable', 'read-serializable'];
  if (clients) return all.flatMap((workload) => clients.map((n) => ({ workload, clients: n })));
  if (nodes > 1) {
    return [
      { workload: 'write', clients: 1 }, { workload: 'write', clients: 64 },
      { workload: 'read-linearizable', clients: 64 }, { workload: 'read-serializable', clients: 64 },
    ];
  }
  return all.flatMap((workload) => [1, 64].map((n) => ({ workload, clients: n })));
}

/**
 * Pins the bench (and so its load threads) to `--load-cpus` with `taskset -a -p`, and plans each
 * member's CPUs out of the rest. Members are always started under their own list once anything is
 * pinned: otherwise they would inherit the load generator's CPUs.
 */
function placeCpus(opts: Options): Placement | undefined {
  if (opts.cpusPerMember === undefined && opts.loadCpus === undefined) return undefined;
  const mine = allowedCpus();
  let forMembers = mine;
  if (opts.loadCpus) {
    const outside = opts.loadCpus.filter((c) => !mine.includes(c));
    if (outside.length > 0) throw new Error(`--load-cpus ${formatCpuList(outside)} are not among this process's CPUs (${formatCpuList(mine)})`);
    execFileSync('taskset', ['-a', '-p', '-c', formatCpuList(opts.loadCpus), String(process.pid)], { stdio: 'ignore' });
    forMembers = mine.filter((c) => !opts.loadCpus!.includes(c));
    if (forMembers.length === 0) {
      forMembers = mine;
      log(`--load-cpus takes every CPU (${formatCpuList(mine)}): the members share them with the load generator`);
    }
  }
  const placement: Placement = { loadCpus: opts.loadCpus ? formatCpuList(opts.loadCpus) : undefined };
  if (opts.cpusPerMember !== undefined) {
    const plan = planMemberCpus(opts.nodes, opts.cpusPerMember, forMembers);
    placement.memberCpus = plan.members;
    if (plan.note) {
      placement.note = plan.note;
      log(plan.note);
    }
  } else {
    placement.memberCpus = Array.from({ length: opts.nodes }, () => formatCpuList(forMembers));
  }
  log(`CPUs: members ${placement.memberCpus.join(' / ')}${placement.loadCpus ? `, load generator ${placement.loadCpus}` : ''}`);
  return placement;
}

async function serverVersion(target: BenchTarget): Promise<string | undefined> {
  try {
    const body = (await http('GET', `${target.members[0]!.clientUrl}/version`, { tls: target.tls })).json as { etcdserver?: string; deimos?: string };
    return body.deimos ? `${body.deimos} (speaks etcd ${body.etcdserver})` : body.etcdserver;
  } catch {
    return undefined; // the version is decoration; the measurement does not depend on it
  }
}

async function benchOne(kind: ServerKind, opts: Options, etcdBinary: string | undefined, placement: Placement | undefined, tls?: BenchTls): Promise<TargetReport> {
  const report: TargetReport = { kind, nodes: opts.nodes };
  log(`starting ${opts.nodes} ${kind} node(s)${tls ? ' with https client URLs' : ''} ...`);
  let target: BenchTarget;
  try {
    target = await startTarget(kind, { nodes: opts.nodes, etcdBinary, tls, cpuLists: placement?.memberCpus, clientWorkers: opts.clientWorkers });
  } catch (err) {
    report.error = `${kind} failed to start: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}`;
    log(report.error);
    return report;
  }
  live.add(target);
  try {
    report.version = await serverVersion(target);
    if (opts.watchers !== undefined) {
      const leader = await findLeader(target);
      log(`  opening ${opts.watchers} idle watches on ${kind} ...`);
      report.watchers = await measureWatcherMemory(leader, { count: opts.watchers, log });
      log(`  ${kind}: ${Math.round(report.watchers.bytesPerWatcher)} bytes per watcher`);
    } else {
      const suite: SuiteOptions = {
        durationMs: opts.durationS * 1000,
        warmupMs: opts.warmupS * 1000,
        runs: opts.runs,
        valueBytes: opts.valueBytes,
        cases: suiteCases(opts.nodes, opts.clients),
        loadThreads: opts.loadThreads,
        bulkWrites: opts.bulkWrites,
        bulkTimeoutMs: opts.bulkTimeoutS * 1000,
        bulkSettleMs: opts.bulkSettleS * 1000,
        log,
      };
      report.suite = await runKeysSuite(target, suite);
    }
  } catch (err) {
    report.error = `${kind} measurement failed: ${(err as Error).message}`;
    log(report.error);
  } finally {
    await target.destroy();
    live.delete(target);
  }
  return report;
}

const REEXEC_ENV = 'DEIMOS_BENCH_NOFILE';

/**
 * Makes sure N watchers fit in the open-files limit. Node cannot raise its own hard limit, and servers
 * inherit this process's limit, so when it is too low the bench runs itself again under
 * `sh -c 'ulimit -n L && exec node ...'` (which needs root or a high enough hard limit).
 * Returns the exit code of that run, or undefined when the current limit is enough.
 */
async function rerunWithFileLimit(watchers: number | undefined): Promise<number | undefined> {
  if (watchers === undefined) return undefined;
  const need = watchers + 1024;
  const have = openFilesLimit();
  if (have >= need) return undefined;
  const advice = `--watchers ${watchers} needs about ${need} open files (the bench's sockets, and the server's, which it inherits), `
    + `but the limit is ${have}. Raise it in your shell (\`ulimit -n ${Math.max(need, 65536)}\`; needs root or a hard limit that high, see \`ulimit -Hn\`) and run again.`;
  if (process.env[REEXEC_ENV]) throw new Error(advice);
  const limit = Math.max(need, 65536);
  log(`open-files limit ${have} is too low for ${watchers} watchers: running again under \`ulimit -n ${limit}\``);
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC_ENV]: String(limit) },
  });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) log(advice);
  return code;
}

async function main(): Promise<number> {
  const opts = parseOptions();
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.tls && (opts.proxy || opts.watchers !== undefined)) {
    log('--tls goes with the throughput cases only (not --proxy or --watchers)');
    return 2;
  }
  if (opts.auth) {
    return runAuthBench({
      nodes: opts.nodes, durationS: opts.durationS, warmupS: opts.warmupS, runs: opts.runs, valueBytes: opts.valueBytes,
      etcdBinary: opts.only === 'deimos' ? undefined : findOnPath('etcd'), json: opts.json, log,
    });
  }
  const pinned = opts.cpusPerMember !== undefined || opts.loadCpus !== undefined || opts.loadThreads > 1 || opts.clientWorkers !== undefined || opts.clients !== undefined;
  if (opts.proxy && pinned) {
    log('--proxy goes without --clients, --cpus-per-member, --load-cpus, --load-threads and --client-workers');
    return 2;
  }
  const placement = placeCpus(opts);
  if (opts.proxy) {
    return runProxyBench({ durationS: opts.durationS, warmupS: opts.warmupS, runs: opts.runs, valueBytes: opts.valueBytes, json: opts.json, log });
  }
  if (opts.pairs !== undefined) {
    const etcd = findOnPath('etcd');
    if (!etcd || opts.only || opts.tls || opts.watchers !== undefined) {
      log('--paired needs etcd on the PATH and goes without --only, --tls and --watchers');
      return 2;
    }
    return runPairedBench({
      nodes: opts.nodes, durationS: opts.durationS, warmupS: opts.warmupS, pairs: opts.pairs, valueBytes: opts.valueBytes,
      cases: suiteCases(opts.nodes, opts.clients), etcdBinary: etcd, json: opts.json, log,
      placement, loadThreads: opts.loadThreads, clientWorkers: opts.clientWorkers,
    });
  }
  const rerun = await rerunWithFileLimit(opts.watchers);
  if (rerun !== undefined) return rerun;
  const etcdBinary = findOnPath('etcd');
  const notes: string[] = [];
  const kinds: ServerKind[] = opts.only ? [opts.only] : ['deimos', 'etcd'];
  if (!etcdBinary && kinds.includes('etcd')) notes.push('etcd is not on the PATH: only deimos was measured (apt-get install etcd-server).');
  if (opts.watchers === undefined) {
    notes.push('Linearizable reads: deimos default GET, etcd `quorum=true`. Serializable reads: deimos `serializable=true`, etcd plain GET.');
  } else {
    notes.push('Watchers are idle long polls, one connection each; RSS is read after it stops moving (at most 15 s).');
  }
  if (opts.nodes > 1) notes.push('All load goes to the leader.');

  const before = machineInfo();
  const startedAt = new Date().toISOString();
  const certs = opts.tls ? await makeCerts() : undefined;
  const targets: TargetReport[] = [];
  const tlsTargets: TargetReport[] = [];
  let ceiling: BenchReport['ceiling'];
  let tls: TlsReport | undefined;
  try {
    for (const kind of kinds) {
      if (kind === 'etcd' && !etcdBinary) continue;
      targets.push(await benchOne(kind, opts, etcdBinary, placement));
      // Plain and TLS runs of a kind back to back, so that machine drift hits both alike.
      if (certs) tlsTargets.push(await benchOne(kind, opts, etcdBinary, placement, certs.tls));
    }
    if (opts.watchers === undefined) {
      const settings = {
        clients: Math.max(64, ...(opts.clients ?? [])), durationMs: opts.durationS * 1000, warmupMs: opts.warmupS * 1000, runs: opts.runs,
        loadThreads: opts.loadThreads, cpuList: placement?.memberCpus?.[0],
      };
      log('measuring the harness ceiling (bare node:http server) ...');
      ceiling = await measureCeiling(settings);
      log(`  ceiling x${settings.clients}: ${Math.round(ceiling.requestsPerSecond)} req/s`);
      if (certs) {
        log('measuring the harness ceiling over https (bare node:https server) ...');
        const tlsCeiling = await measureCeiling({ ...settings, tls: certs.tls });
        log(`  https ceiling x${settings.clients}: ${Math.round(tlsCeiling.requestsPerSecond)} req/s`);
        tls = {
          targets: tlsTargets,
          ceiling: tlsCeiling,
          ratios: computeRatios(tlsTargets.find((t) => t.kind === 'deimos'), tlsTargets.find((t) => t.kind === 'etcd')),
          overPlain: computeTlsOverPlain(targets, tlsTargets),
        };
      }
    }
  } finally {
    certs?.destroy();
  }
  const after = machineInfo();
  const busiest = Math.max(before.loadAverage[0], after.loadAverage[0]);
  if (busiest > before.cpuCount) {
    notes.push(`The machine was busy with other work (1-min load up to ${busiest.toFixed(1)} on ${before.cpuCount} cores): `
      + 'absolute figures are depressed and noisy; the deimos/etcd ratios are the steadier reading.');
  }
  const report: BenchReport = {
    startedAt,
    machine: { before, after },
    settings: { nodes: opts.nodes, durationS: opts.durationS, warmupS: opts.warmupS, runs: opts.runs, valueBytes: opts.valueBytes, watchers: opts.watchers, bulkSettleS: opts.bulkSettleS,
      placement, loadThreads: opts.loadThreads, clientWorkers: opts.clientWorkers,
    },
    targets,
    ceiling,
    ratios: computeRatios(targets.find((t) => t.kind === 'deimos'), targets.find((t) => t.kind === 'etcd')),
    tls,
    notes,
  };
  process.stdout.write(`${renderMarkdown(report)}\n`);
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`JSON summary written to ${opts.json}`);
  }
  return targets.some((t) => !t.error) && tlsTargets.every((t) => !t.error) ? 0 : 1;
}

/** A CA and a server certificate for 127.0.0.1 from the real `deimosctl cert`, in a temporary directory. */
async function makeCerts(): Promise<{ tls: BenchTls; destroy(): void }> {
  log('making a CA and a server certificate with deimosctl cert ...');
  const certs = await TestCerts.create();
  try {
    const server = await certs.issue('server', 'bench-server');
    return { tls: { certFile: server.cert, keyFile: server.key, client: { ca: certs.read('ca.pem') } }, destroy: () => certs.destroy() };
  } catch (err) {
    certs.destroy();
    throw err;
  }
}

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  log(`${signal}: stopping the servers`);
  await Promise.all([...live].map((t) => t.destroy()));
  process.exit(130);
}
process.once('SIGINT', (s) => void shutdown(s));
process.once('SIGTERM', (s) => void shutdown(s));

main().then((code) => {
  process.exitCode = code;
}, (err: Error) => {
  log(err.message);
  process.exitCode = 1;
});
