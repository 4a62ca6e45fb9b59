/** The benchmark report: the JSON summary's shape and its rendering as Markdown tables. */
import type { ServerKind } from './bench-target.js';
import type { CeilingResult } from './ceiling.js';
import type { CaseResult, MemberCpu, MemberMemory, SuiteResult } from './keys-suite.js';
import type { MachineInfo } from './process-stats.js';
import type { WatcherMemoryResult } from './watcher-memory.js';

/** What was measured on one server kind. */
export interface TargetReport {
  kind: ServerKind;
  nodes: number;
  version?: string;
  /** Why nothing (or not everything) was measured. */
  error?: string;
  suite?: SuiteResult;
  watchers?: WatcherMemoryResult;
}

/** The whole run, as written to `--json`. */
export interface BenchReport {
  startedAt: string;
  machine: { before: MachineInfo; after: MachineInfo };
  settings: {
    nodes: number; durationS: number; warmupS: number; runs: number; valueBytes: number; watchers?: number; bulkSettleS?: number;
    /** How the CPUs were split, when they were (`--cpus-per-member`, `--load-cpus`). */
    placement?: Placement;
    /** Load generator threads. */
    loadThreads?: number;
    /** `DEIMOS_CLIENT_WORKERS` given to deimos members. */
    clientWorkers?: number;
  };
  targets: TargetReport[];
  /** The load generator against a bare node:http server (throughput runs only). */
  ceiling?: CeilingResult;
  /** deimos/etcd per case (throughput, p99) and for memory, when both were measured. */
  ratios: Record<string, number>;
  /** `--tls`: the same cases over https, the ceiling over https, and the TLS/plain ratios. */
  tls?: TlsReport;
  notes: string[];
}

/** Where members and the load generator ran. */
export interface Placement {
  /** `taskset -c` list of each member, by index; absent: not pinned. */
  memberCpus?: string[];
  /** The load generator's CPUs; absent: not pinned. */
  loadCpus?: string;
  /** Why lists overlap, when they do. */
  note?: string;
}

/** The sentence on pinning for the report. */
export function placementText(p: Placement | undefined, cpuCount: number): string {
  if (!p || (!p.memberCpus && !p.loadCpus)) return `Load generator and servers share the ${cpuCount} cores, nothing pinned.`;
  const members = p.memberCpus ? `members pinned with taskset to ${p.memberCpus.map((l, i) => `${i + 1}: ${l}`).join(', ')}` : 'members not pinned';
  return `CPUs: ${members}; load generator ${p.loadCpus ? `on ${p.loadCpus}` : 'not pinned'}.${p.note ? ` ${p.note}` : ''}`;
}

/** A per-member CPU row: one case, each kind's members. */
export interface MemberCpuRow {
  workload: string;
  clients: number;
  deimos?: MemberCpu[];
  etcd?: MemberCpu[];
}

/**
 * Each member's CPU per case, so that the spread over cores is visible: `total (workers)` in % of
 * one core, where the part in parentheses is the member's child processes.
 */
export function memberCpuTable(rows: readonly MemberCpuRow[], what: string): string[] {
  const cell = (list: MemberCpu[] | undefined) => (list && list.length > 0
    ? list.map((m) => `${fmt(m.percent)}${m.childrenPercent >= 0.5 ? ` (${fmt(m.childrenPercent)})` : ''}`).join(' / ')
    : '—');
  return [
    `Each member's CPU in % of one core (${what}; in parentheses the part used by its child processes), members in order:`,
    '',
    '| workload | clients | deimos members CPU % | etcd members CPU % |',
    '|---|--:|--:|--:|',
    ...rows.map((r) => `| ${r.workload} | ${r.clients} | ${cell(r.deimos)} | ${cell(r.etcd)} |`),
  ];
}

/** Each member's memory at the end: the sum over its processes of RSS and PSS, and the main process apart. */
export function memberMemoryTable(memory: Partial<Record<ServerKind, readonly MemberMemory[]>>): string[] {
  const lines = [
    'Memory of each member at the end (sums over the member\'s process tree; PSS counts shared pages once):',
    '',
    '| server | member | processes | RSS | PSS | main RSS | main PSS | children RSS | children PSS |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const [kind, members] of Object.entries(memory)) {
    for (const m of members ?? []) {
      const u = m.usage;
      lines.push(`| ${kind} | ${m.name} | ${u?.total.processes ?? '—'} | ${mib(u?.total.rssBytes)} | ${mib(u?.total.pssBytes)} | ${mib(u?.main.rssBytes)} `
        + `| ${mib(u?.main.pssBytes)} | ${u?.children.processes ? mib(u.children.rssBytes) : '—'} | ${u?.children.processes ? mib(u.children.pssBytes) : '—'} |`);
    }
  }
  return lines;
}

/** The https half of a `--tls` run. */
export interface TlsReport {
  targets: TargetReport[];
  ceiling?: CeilingResult;
  /** deimos/etcd over TLS, as {@link BenchReport.ratios}. */
  ratios: Record<string, number>;
  /** TLS/plain per server kind and case: `<kind> <workload> x<clients> req/s` and `... µs/req`. */
  overPlain: Record<string, number>;
}

/** TLS/plain throughput and CPU per request for every case measured both ways. */
export function computeTlsOverPlain(plain: TargetReport[], tls: TargetReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tls) {
    const p = plain.find((x) => x.kind === t.kind);
    for (const c of t.suite?.cases ?? []) {
      const b = p?.suite?.cases.find((x) => caseKey(x) === caseKey(c));
      if (!b) continue;
      if (b.requestsPerSecond > 0) out[`${t.kind} ${caseKey(c)} req/s`] = c.requestsPerSecond / b.requestsPerSecond;
      if (b.serverCpuMicrosPerRequest > 0) out[`${t.kind} ${caseKey(c)} µs/req`] = c.serverCpuMicrosPerRequest / b.serverCpuMicrosPerRequest;
    }
  }
  return out;
}

const MIB = 2 ** 20;
/** A number for a table cell: fixed digits, or a dash when missing or not finite. */
export const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));
/** Bytes as `12.3 MiB` (`—` when unknown). */
export const mib = (b: number | undefined) => (b === undefined ? '—' : `${(b / MIB).toFixed(1)} MiB`);
const caseKey = (c: { workload: string; clients: number }) => `${c.workload} x${c.clients}`;

/** deimos/etcd ratios for everything measured on both. */
export function computeRatios(deimos: TargetReport | undefined, etcd: TargetReport | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!deimos || !etcd) return out;
  for (const d of deimos.suite?.cases ?? []) {
    const e = etcd.suite?.cases.find((c) => caseKey(c) === caseKey(d));
    if (!e) continue;
    if (e.requestsPerSecond > 0) out[`${caseKey(d)} req/s`] = d.requestsPerSecond / e.requestsPerSecond;
    if (e.p99Ms > 0) out[`${caseKey(d)} p99`] = d.p99Ms / e.p99Ms;
    if (e.serverCpuMicrosPerRequest > 0) out[`${caseKey(d)} CPU/req`] = d.serverCpuMicrosPerRequest / e.serverCpuMicrosPerRequest;
  }
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : undefined);
  const rss = ratio(deimos.suite?.rssAfterWritesBytes, etcd.suite?.rssAfterWritesBytes);
  if (rss !== undefined) out['RSS after writes'] = rss;
  const bulk = ratio(deimos.suite?.bulk?.leaderRssBytes, etcd.suite?.bulk?.leaderRssBytes);
  if (bulk !== undefined) out['leader RSS after bulk writes'] = bulk;
  const settled = ratio(deimos.suite?.bulk?.leaderRssSettledBytes, etcd.suite?.bulk?.leaderRssSettledBytes);
  if (settled !== undefined) out['leader RSS after bulk writes, settled'] = settled;
  const w = ratio(deimos.watchers?.bytesPerWatcher, etcd.watchers?.bytesPerWatcher);
  if (w !== undefined) out['bytes per idle watcher'] = w;
  return out;
}

function throughputTable(report: BenchReport, ratiosOf: Record<string, number>, d: TargetReport | undefined, e: TargetReport | undefined): string[] {
  const cases: Pick<CaseResult, 'workload' | 'clients'>[] = [];
  for (const c of [...(d?.suite?.cases ?? []), ...(e?.suite?.cases ?? [])]) {
    if (!cases.some((x) => caseKey(x) === caseKey(c))) cases.push(c);
  }
  const find = (t: TargetReport | undefined, c: Pick<CaseResult, 'workload' | 'clients'>) => t?.suite?.cases.find((x) => caseKey(x) === caseKey(c));
  const lines = [
    '| workload | clients | deimos req/s | p50 ms | p99 ms | CPU % | µs/req | etcd req/s | p50 ms | p99 ms | CPU % | µs/req | deimos/etcd req/s | deimos/etcd p99 | deimos/etcd µs/req |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of cases) {
    const a = find(d, c);
    const b = find(e, c);
    const cols = (x: CaseResult | undefined) => [
      fmt(x?.requestsPerSecond), fmt(x?.p50Ms, 2), fmt(x?.p99Ms, 2), fmt(x?.serverCpuPercent), fmt(x?.serverCpuMicrosPerRequest),
    ];
    const err = [a, b].filter((x) => x?.errors).map((x) => ` (${x!.errors} errors)`).join('');
    const ratios = ['req/s', 'p99', 'CPU/req'].map((r) => fmt(ratiosOf[`${caseKey(c)} ${r}`], 2));
    lines.push(`| ${c.workload}${err} | ${c.clients} | ${[...cols(a), ...cols(b), ...ratios].join(' | ')} |`);
  }
  const rssLabel = report.settings.nodes > 1 ? 'leader RSS after the write cases' : 'RSS after the write cases';
  lines.push(`| ${rssLabel} | | ${mib(d?.suite?.rssAfterWritesBytes)} | | | | | ${mib(e?.suite?.rssAfterWritesBytes)} | | | | | ${fmt(ratiosOf['RSS after writes'], 2)} | | |`);
  if (d?.suite?.bulk || e?.suite?.bulk) {
    const label = (t: TargetReport | undefined) => (t?.suite?.bulk ? `${mib(t.suite.bulk.leaderRssBytes)} (${t.suite.bulk.keys} keys)` : '—');
    lines.push(`| leader RSS after bulk writes | | ${label(d)} | | | | | ${label(e)} | | | | | ${fmt(ratiosOf['leader RSS after bulk writes'], 2)} | | |`);
    const settled = (t: TargetReport | undefined) => mib(t?.suite?.bulk?.leaderRssSettledBytes);
    const idleS = report.settings.bulkSettleS ?? 0;
    lines.push(`| leader RSS ${idleS} s after bulk writes | | ${settled(d)} | | | | | ${settled(e)} | | | | | ${fmt(ratiosOf['leader RSS after bulk writes, settled'], 2)} | | |`);
  }
  return lines;
}

function watcherTable(report: BenchReport, targets: TargetReport[]): string[] {
  const lines = [
    '| server | watchers | confirmed | RSS before | RSS after | bytes per watcher |',
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const t of targets) {
    const w = t.watchers;
    lines.push(`| ${t.kind} | ${w?.watchers ?? '—'} | ${w?.confirmed ?? '—'} | ${mib(w?.rssBeforeBytes)} | ${mib(w?.rssAfterBytes)} | ${fmt(w?.bytesPerWatcher)} |`);
  }
  const r = report.ratios['bytes per idle watcher'];
  if (r !== undefined) lines.push('', `deimos/etcd bytes per idle watcher: ${r.toFixed(2)}`);
  return lines;
}

function ceilingLine(c: CeilingResult, server: string): string {
  return `Harness ceiling: this load generator against a bare ${server} server (no JSON work, no storage) reaches `
    + `${fmt(c.requestsPerSecond)} req/s at ${c.clients} clients (p50 ${fmt(c.p50Ms, 2)} ms, p99 ${fmt(c.p99Ms, 2)} ms) on this machine now, `
    + `the bare server using ${fmt(c.serverCpuMicrosPerRequest)} µs and the load generator ${fmt(c.loadCpuMicrosPerRequest)} µs of CPU per request; `
    + 'figures close to it say more about the harness than about the server.';
}

function tlsSection(report: BenchReport, tls: TlsReport): string[] {
  const d = tls.targets.find((t) => t.kind === 'deimos');
  const e = tls.targets.find((t) => t.kind === 'etcd');
  const out = [
    '### The same loads over TLS',
    '',
    'Client connections over https (TLS 1.3, a certificate from `deimosctl cert` made for this run); each connection is kept, so the handshake is paid once per client.',
    ...report.targets.concat(tls.targets).filter((t) => t.error).map((t) => `- ${t.kind}: **not measured: ${t.error}**`),
    '',
    ...throughputTable(report, tls.ratios, d, e),
    '',
    '| workload | clients | deimos TLS/plain req/s | etcd TLS/plain req/s | deimos TLS/plain µs/req | etcd TLS/plain µs/req |',
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const c of d?.suite?.cases ?? e?.suite?.cases ?? []) {
    const r = (kind: string, what: string) => fmt(tls.overPlain[`${kind} ${caseKey(c)} ${what}`], 2);
    out.push(`| ${c.workload} | ${c.clients} | ${r('deimos', 'req/s')} | ${r('etcd', 'req/s')} | ${r('deimos', 'µs/req')} | ${r('etcd', 'µs/req')} |`);
  }
  if (tls.ceiling) out.push('', ceilingLine(tls.ceiling, 'node:https'));
  return out;
}

/** Renders the report as Markdown. */
export function renderMarkdown(report: BenchReport): string {
  const d = report.targets.find((t) => t.kind === 'deimos');
  const e = report.targets.find((t) => t.kind === 'etcd');
  const m = report.machine;
  const la = (x: MachineInfo) => x.loadAverage.map((v) => v.toFixed(2)).join(' / ')
    + (x.cpuPressure10s === undefined ? '' : ` (CPU pressure ${x.cpuPressure10s.toFixed(0)} %)`);
  const s = report.settings;
  const out = [
    `## deimos vs etcd, v2 keys API, ${s.nodes} node${s.nodes > 1 ? 's' : ''}`,
    '',
    `Machine: ${m.before.cpuCount} × ${m.before.cpuModel}; load average (1/5/15 min) before ${la(m.before)}, after ${la(m.after)}.`,
    ...report.targets.map((t) => `- ${t.kind}${t.version ? ` ${t.version}` : ''}: ${t.error ? `**not measured: ${t.error}**` : 'measured'}`),
    '',
  ];
  if (s.watchers !== undefined) {
    out.push(...watcherTable(report, report.targets));
  } else {
    out.push(
      `${placementText(s.placement, m.before.cpuCount)}${s.loadThreads && s.loadThreads > 1 ? ` The load generator runs ${s.loadThreads} threads.` : ''}`
      + `${s.clientWorkers === undefined ? '' : ` deimos members get DEIMOS_CLIENT_WORKERS=${s.clientWorkers}.`} Each figure is the best of ${s.runs} runs of ${s.durationS} s after a ${s.warmupS} s warm-up; `
      + `writes PUT ${s.valueBytes}-byte values to distinct keys, reads GET written keys (keep-alive connections, one per client). `
      + 'CPU % is the servers\' CPU time during the kept run, in % of one core; µs/req is that CPU time per request '
      + '(the steadier figure when the machine is shared).',
      '',
      ...throughputTable(report, report.ratios, d, e),
    );
    const rows: MemberCpuRow[] = [];
    for (const c of [...(d?.suite?.cases ?? []), ...(e?.suite?.cases ?? [])]) {
      if (rows.some((r) => r.workload === c.workload && r.clients === c.clients)) continue;
      const of = (t: TargetReport | undefined) => t?.suite?.cases.find((x) => caseKey(x) === caseKey(c))?.memberCpu;
      rows.push({ workload: c.workload, clients: c.clients, deimos: of(d), etcd: of(e) });
    }
    if (rows.length > 0) out.push('', ...memberCpuTable(rows, 'the kept run'));
    if (d?.suite?.members || e?.suite?.members) out.push('', ...memberMemoryTable({ deimos: d?.suite?.members, etcd: e?.suite?.members }));
    if (report.ceiling) out.push('', ceilingLine(report.ceiling, 'node:http'));
    if (report.tls) out.push('', ...tlsSection(report, report.tls));
  }
  if (report.notes.length) out.push('', ...report.notes.map((n) => `- ${n}`));
  return out.join('\n');
}
