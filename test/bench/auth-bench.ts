/**
 * `npm run bench -- --auth`: the keys workloads with the v2 auth API enabled and every request
 * authenticated (HTTP Basic, a user whose role allows `/bench/*`), against the same target without
 * auth, on deimos and on etcd 3.4 in the same run. Per target: root, the role and the user are
 * created, then each of `--runs` rounds runs the suite once with auth disabled and once enabled with
 * credentials (the order swapped every round), keeping the best run of each. Reports
 * deimos's auth/no-auth ratio per case (target: at least 0.9) and deimos-with-auth / etcd-with-auth
 * (etcd runs bcrypt on every authenticated request), then the server CPU per request of each case and
 * deimos's auth/no-auth ratio of it (steadier than req/s on a shared, busy machine).
 */
import { writeFileSync } from 'node:fs';
import { http } from '../support/http.js';
import { findLeader, startTarget, type BenchTarget, type ServerKind } from './bench-target.js';
import { runKeysSuite, type CaseResult, type SuiteOptions, type Workload } from './keys-suite.js';
import { machineInfo } from './process-stats.js';

/** Settings of the comparison. */
export interface AuthBenchOptions {
  nodes: number;
  durationS: number;
  warmupS: number;
  runs: number;
  valueBytes: number;
  etcdBinary?: string;
  json?: string;
  log: (line: string) => void;
}

const CASES: Array<{ workload: Workload; clients: number }> = [
  { workload: 'write', clients: 64 },
  { workload: 'read-linearizable', clients: 64 },
  { workload: 'read-serializable', clients: 64 },
];

/** The user the authenticated runs send (its role reads and writes /bench/*). */
const USER = { name: 'bench', password: 'bench-password' };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Creates root, a role for /bench/* and the bench user (through the leader). */
async function createUsers(target: BenchTarget): Promise<void> {
  const leader = await findLeader(target);
  const json = { 'Content-Type': 'application/json' };
  const steps: Array<[string, unknown]> = [
    ['/v2/auth/users/root', { user: 'root', password: 'root-password' }],
    ['/v2/auth/roles/bench', { role: 'bench', permissions: { kv: { read: ['/bench/*'], write: ['/bench/*'] } } }],
    [`/v2/auth/users/${USER.name}`, { user: USER.name, password: USER.password, roles: ['bench'] }],
  ];
  for (const [path, body] of steps) {
    const res = await http('PUT', `${leader.clientUrl}${path}`, { body: JSON.stringify(body), headers: json, tls: target.tls });
    if (res.status !== 200 && res.status !== 201) throw new Error(`${target.kind} PUT ${path}: ${res.status} ${res.body}`);
  }
}

/** Enables or disables auth (as root, through the leader) and waits until every member has applied it. */
async function setAuth(target: BenchTarget, on: boolean): Promise<void> {
  const leader = await findLeader(target);
  const res = await http(on ? 'PUT' : 'DELETE', `${leader.clientUrl}/v2/auth/enable`, { headers: { Authorization: basic('root', 'root-password') }, tls: target.tls });
  if (res.status !== 200) throw new Error(`${target.kind} auth ${on ? 'enable' : 'disable'}: ${res.status} ${res.body}`);
  for (const m of target.members) {
    for (let i = 0; i < 100; i++) {
      if ((await http('GET', `${m.clientUrl}/v2/auth/enable`, { tls: target.tls })).json?.enabled === on) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Per case, the run with the most requests per second of the two (the suite's own best-of rule). */
function keepBest(kept: CaseResult[], next: CaseResult[]): CaseResult[] {
  if (kept.length === 0) return next;
  return kept.map((k) => {
    const n = next.find((x) => x.workload === k.workload);
    return n !== undefined && n.requestsPerSecond > k.requestsPerSecond ? n : k;
  });
}

interface KindResult {
  kind: ServerKind;
  plain: CaseResult[];
  auth: CaseResult[];
  error?: string;
}

async function benchKind(kind: ServerKind, opts: AuthBenchOptions): Promise<KindResult> {
  const result: KindResult = { kind, plain: [], auth: [] };
  const target = await startTarget(kind, { nodes: opts.nodes, etcdBinary: opts.etcdBinary });
  try {
    const suite: SuiteOptions = {
      durationMs: opts.durationS * 1000, warmupMs: opts.warmupS * 1000, runs: opts.runs, valueBytes: opts.valueBytes,
      cases: CASES, bulkWrites: 0, bulkTimeoutMs: 0, bulkSettleMs: 0, log: opts.log,
    };
    await createUsers(target);
    // Rounds run the suite once without and once with auth on the same member, the order swapped
    // every round: a write case leaves the state database's write-behind flush running into the
    // cases after it, and each write case adds keys, so whichever mode always came second would pay
    // for the other's writes. The best run of each case is kept, as the suite does.
    const once = { ...suite, runs: 1 };
    let enabled = false;
    for (let round = 1; round <= opts.runs; round++) {
      const order = round % 2 === 1 ? [false, true] : [true, false];
      for (const on of order) {
        if (on !== enabled) await setAuth(target, (enabled = on));
        if (on) {
          opts.log(`${kind}, ${opts.nodes} node(s), round ${round}/${opts.runs}, auth enabled, every request as user ${USER.name} (HTTP Basic):`);
          result.auth = keepBest(result.auth, (await runKeysSuite(target, { ...once, headers: { Authorization: basic(USER.name, USER.password) } })).cases);
        } else {
          opts.log(`${kind}, ${opts.nodes} node(s), round ${round}/${opts.runs}, auth disabled:`);
          result.plain = keepBest(result.plain, (await runKeysSuite(target, once)).cases);
        }
      }
    }
  } catch (err) {
    result.error = (err as Error).message;
    opts.log(`${kind}: ${result.error}`);
  } finally {
    await target.destroy();
  }
  return result;
}

function rate(cases: CaseResult[], workload: Workload): number | undefined {
  return cases.find((x) => x.workload === workload)?.requestsPerSecond;
}

/** Server CPU per request (all members together) in the kept run, in µs. */
function cpuPerRequest(cases: CaseResult[], workload: Workload): number | undefined {
  return cases.find((x) => x.workload === workload)?.serverCpuMicrosPerRequest;
}

/** `a / b` where both are known and `b` is not zero. */
function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b ? a / b : undefined;
}

const f = (n: number | undefined, d = 0): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));

/** Runs the comparison; resolves with the exit code (1 when a target failed or a request errored). */
export async function runAuthBench(opts: AuthBenchOptions): Promise<number> {
  const machine = machineInfo();
  const kinds: ServerKind[] = opts.etcdBinary ? ['deimos', 'etcd'] : ['deimos'];
  const results: KindResult[] = [];
  for (const kind of kinds) results.push(await benchKind(kind, opts));
  const deimos = results.find((r) => r.kind === 'deimos')!;
  const etcd = results.find((r) => r.kind === 'etcd');
  const rows = CASES.map(({ workload, clients }) => {
    const dPlain = rate(deimos.plain, workload);
    const dAuth = rate(deimos.auth, workload);
    const ePlain = etcd && rate(etcd.plain, workload);
    const eAuth = etcd && rate(etcd.auth, workload);
    const dPlainCpu = cpuPerRequest(deimos.plain, workload);
    const dAuthCpu = cpuPerRequest(deimos.auth, workload);
    return {
      workload, clients, deimosPlain: dPlain, deimosAuth: dAuth, authOverPlain: ratio(dAuth, dPlain),
      etcdPlain: ePlain, etcdAuth: eAuth, deimosAuthOverEtcdAuth: ratio(dAuth, eAuth),
      deimosPlainCpuMicros: dPlainCpu, deimosAuthCpuMicros: dAuthCpu, cpuAuthOverPlain: ratio(dAuthCpu, dPlainCpu),
      etcdPlainCpuMicros: etcd && cpuPerRequest(etcd.plain, workload), etcdAuthCpuMicros: etcd && cpuPerRequest(etcd.auth, workload),
    };
  });
  const lines = [
    `## v2 auth: authenticated keys requests (${opts.nodes} node(s), ${opts.durationS} s runs, best of ${opts.runs}, ${machine.cpuCount} CPUs)`,
    '',
    '| case | deimos no auth | deimos auth | auth/no auth | etcd no auth | etcd auth | deimos auth / etcd auth |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.workload} x${r.clients} | ${f(r.deimosPlain)} | ${f(r.deimosAuth)} | ${f(r.authOverPlain, 2)} | ${f(r.etcdPlain)} | ${f(r.etcdAuth)} | ${f(r.deimosAuthOverEtcdAuth, 1)} |`),
    '',
    'Requests per second. Authenticated: HTTP Basic on every request, a user whose role allows /bench/*.',
    '',
    // req/s on a shared machine moves with whatever else runs; the server's own CPU per request moves far less.
    '| case | deimos no auth µs/req | deimos auth µs/req | CPU/req auth/no auth | etcd no auth µs/req | etcd auth µs/req |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.workload} x${r.clients} | ${f(r.deimosPlainCpuMicros)} | ${f(r.deimosAuthCpuMicros)} | ${f(r.cpuAuthOverPlain, 2)} | ${f(r.etcdPlainCpuMicros)} | ${f(r.etcdAuthCpuMicros)} |`),
    '',
    `Server CPU per request: CPU time of every member's process tree during the kept run / requests answered (${opts.nodes} member(s) together).`,
    'CPU/req auth/no auth above 1 is the cost of auth (lower is better; the throughput ratio above is the other way round).',
    ...(etcd ? [] : ['etcd is not on the PATH: only deimos was measured.']),
    ...results.filter((r) => r.error).map((r) => `${r.kind} failed: ${r.error}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ settings: opts, machine, rows, results }, (k, v) => (k === 'log' ? undefined : v), 2)}\n`);
  const errored = results.some((r) => r.error || [...r.plain, ...r.auth].some((c) => c.errors > 0));
  return errored ? 1 : 0;
}
