/** The validated configuration of one `deimos` process, built from flags and environment. */
import { resolve } from 'node:path';
import type { NodeId } from '@deimos/protocol';
import { FlagError, parseFlags, type ParsedFlags } from './flag-parser.js';
import { ETCD_FLAG_HINTS, SERVER_FLAGS } from './server-flags.js';
import { clusterListProblem } from './cluster-list-check.js';
import { isWildcardUrl, parseClusterList, parseDurationMs, parseUrlList } from './urls.js';
import { clusterId, memberId } from '../cluster/member-id.js';
import { clientTlsFiles, peerTlsFiles, type TlsFiles } from './tls-flags.js';
import { defaultConnectionLimits } from './connection-limits.js';
import { readOpenFilesLimit } from './open-files-limit.js';
import { cpuBudget, parseClientWorkers } from './client-workers.js';

export type { TlsFiles } from './tls-flags.js';

/** One member of the initial cluster. */
export interface InitialMember {
  id: NodeId;
  name: string;
  peerUrls: string[];
}

/** Everything a member process needs to start. */
export interface ServerConfig {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrls: string[];
  advertisePeerUrls: string[];
  initialCluster: InitialMember[];
  initialClusterState: 'new' | 'existing';
  clusterToken: string;
  memberId: NodeId;
  clusterId: NodeId;
  /**
   * Why the bootstrap flags cannot make a new data directory (`--initial-cluster` does not parse,
   * or `--name` is not among its members): refused at the start of a new member only, since a
   * restart ignores them.
   */
  bootstrapProblem?: string;
  snapshotCount: number;
  requestTimeoutMs: number;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  historySize: number;
  maxRequestBytes: number;
  /** Most client connections open at once (across the client URLs). */
  maxClientConns: number;
  /** Processes serving the client port besides the primary (0: one process serves everything). */
  clientWorkers: number;
  /** Whether the state database's WAL checkpoints run on a thread of their own (store/background-checkpointer.ts). */
  checkpointThread: boolean;
  /** Whether the state database's write-behind commits run on a thread of their own (store/db-writer.ts). */
  commitThread: boolean;
  /** Outgoing peer streams dialled and written on a thread of their own (--peer-thread). */
  peerThread: boolean;
  /** Most connections open at once on the peer URLs. */
  maxPeerConns: number;
  /** The process's open-files limit the defaults were derived from; undefined when unknown. */
  openFilesLimit: number | undefined;
  corsOrigins: string[];
  proxy: 'off' | 'on' | 'readonly';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Refuse membership changes that could cost the cluster its quorum (see reconfig-check.ts). */
  strictReconfigCheck: boolean;
  /** Serve the web dashboard at /dashboard/ (--dashboard, default true). */
  dashboard: boolean;
  /** TLS of the client listener; undefined = plain HTTP. */
  clientTls?: TlsFiles;
  /** TLS of the peer listener and of outgoing peer connections; undefined = plain HTTP. */
  peerTls?: TlsFiles;
  /**
   * TEST ONLY, deliberately broken: linearizable reads skip the ReadIndex round and answer from
   * the local store (stale reads). Set by `DEIMOS_TEST_UNSAFE_LOCAL_READS=1` so that the chaos suite
   * can prove it catches a non-linearizable server; never set it anywhere else.
   */
  unsafeLocalReads?: boolean;
}

/** The environment variable behind {@link ServerConfig.unsafeLocalReads} (chaos tests only). */
export const UNSAFE_LOCAL_READS_ENV = 'DEIMOS_TEST_UNSAFE_LOCAL_READS';

/** What the command line asked for: a config, or just help/version. */
export type StartRequest =
  | { kind: 'help' }
  | { kind: 'version' }
  /** `warnings`: lines to log once the logger exists (a shadowed variable, a long election timeout). */
  | { kind: 'run'; config: ServerConfig; warnings: string[] };

function str(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values.get(name);
  return typeof v === 'string' ? v : undefined;
}

function int(flags: ParsedFlags, name: string, min: number): number {
  const v = flags.values.get(name);
  if (typeof v !== 'number' || v < min) throw new FlagError(`--${name} must be an integer ≥ ${min}`);
  return v;
}

/** An optional integer flag: its value (≥ min) when given, else undefined. */
function optionalInt(flags: ParsedFlags, name: string, min: number): number | undefined {
  return flags.values.has(name) ? int(flags, name, min) : undefined;
}

function oneOf<T extends string>(flags: ParsedFlags, name: string, allowed: readonly T[]): T {
  const v = str(flags, name) ?? '';
  if (!(allowed as readonly string[]).includes(v)) {
    throw new FlagError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  }
  return v as T;
}

/** etcd's longest election timeout (it refuses more): failing over takes at least this long. */
const MAX_ELECTION_MS = 50_000;

/**
 * Refuses an election timeout past {@link MAX_ELECTION_MS}. It is counted in ticks here and in
 * milliseconds by etcd, so etcd's `--election-timeout 1000` (1 s) copied over means 1000 ticks:
 * 100-200 s without a leader after each leader's stop. The message says how to write it.
 */
function checkElectionTime(electionTicks: number, tickMs: number): void {
  const ms = electionTicks * tickMs;
  if (ms <= MAX_ELECTION_MS) return;
  throw new FlagError(`--election-timeout ${electionTicks} is in ticks of --tick-interval (${tickMs} ms): ${ms / 1000} s, more than the ${MAX_ELECTION_MS / 1000} s allowed. `
    + `etcd counts it in milliseconds: etcd's --heartbeat-interval=100 --election-timeout=1000 is --tick-interval 100ms --election-timeout 10 here`);
}

/**
 * The advertised URLs: the flag's, or else the listen URLs. A wildcard listen address (0.0.0.0,
 * [::]) is no address anyone can reach, so it is never published: as etcd does, the advertise
 * flag is then required.
 */
function advertised(flags: ParsedFlags, flag: string, listenFlag: string, listenUrls: readonly string[], audience: string): string[] {
  const given = str(flags, flag);
  const urls = given !== undefined ? parseUrlList(given, flag) : [...listenUrls];
  if (given === undefined) {
    const wildcard = listenUrls.find(isWildcardUrl);
    if (wildcard !== undefined) {
      throw new FlagError(`--${flag} is required when --${listenFlag} is set explicitly (${wildcard} listens on every address of this host; advertise the URLs ${audience} can reach). See 'deimos --help'.`);
    }
  }
  // Port 0 listens on any free port, which no one else can know: published, the others would dial
  // port 0 and the member would wait for ever, never hearing from a leader.
  const anyPort = urls.find((u) => new URL(u).port === '0');
  if (anyPort !== undefined) {
    throw new FlagError(`--${flag}: ${anyPort} has port 0, which ${audience} cannot dial${given === undefined ? ` (taken from --${listenFlag}; give --${flag} with the port it listens on)` : ''}`);
  }
  return urls;
}

/**
 * Parses argv and environment into a start request; throws {@link FlagError} on bad input.
 * `openFilesLimit` (default: this process's) is what the connection limits default from.
 */
export function loadServerConfig(
  argv: readonly string[], env: Record<string, string | undefined>, cwd: string,
  openFilesLimit: () => number | undefined = readOpenFilesLimit,
): StartRequest {
  const flags = parseFlags(SERVER_FLAGS, argv, env, 'DEIMOS', ETCD_FLAG_HINTS, 'ETCD');
  try {
    return configFrom(flags, env, cwd, openFilesLimit);
  } catch (err) {
    if (err instanceof FlagError) throw new FlagError(namedAsGiven(err.message, flags));
    throw err;
  }
}

/**
 * A message about `--name` (the flag's main name, as the checks write it) with the flag named as
 * the operator gave it: `--request-timeout`, or `environment variable DEIMOS_LISTEN_CLIENT_URLS`
 * (a bad variable was reported as a flag nobody had typed).
 */
function namedAsGiven(message: string, flags: ParsedFlags): string {
  const m = /^--([a-z0-9-]+)/.exec(message);
  const given = m === null ? undefined : flags.given.get(m[1]!);
  return given === undefined || given === `--${m![1]}` ? message : `${given}${message.slice(m![0].length)}`;
}

function configFrom(
  flags: ParsedFlags, env: Record<string, string | undefined>, cwd: string, openFilesLimit: () => number | undefined,
): StartRequest {
  if (flags.values.get('help') === true) return { kind: 'help' };
  if (flags.values.get('version') === true) return { kind: 'version' };
  const warnings: string[] = [];
  if (flags.positional.length > 0) throw new FlagError(`unexpected argument: ${flags.positional[0]} (see --help)`);
  if (flags.values.get('enable-v2') === false) throw new FlagError('--enable-v2=false: deimos serves the v2 API only (it has no v3 API to serve instead)');

  const name = str(flags, 'name') ?? 'default';
  if (name === '') throw new FlagError('--name must not be empty');
  const listenClientUrls = parseUrlList(str(flags, 'listen-client-urls')!, 'listen-client-urls');
  const listenPeerUrls = parseUrlList(str(flags, 'listen-peer-urls')!, 'listen-peer-urls');
  const advertiseClientUrls = advertised(flags, 'advertise-client-urls', 'listen-client-urls', listenClientUrls, 'clients');
  const advertisePeerUrls = advertised(flags, 'advertise-peer-urls', 'listen-peer-urls', listenPeerUrls, 'the other members');
  const alone = advertisePeerUrls.map((u) => `${name}=${u}`).join(',');
  const clusterText = str(flags, 'bootstrap-config') ?? alone;
  // A list that does not parse, or a name it lacks, matters only to a new data directory
  // (start-member.ts refuses it there): a restart takes its name and members from the data
  // directory, as etcd's does (it reads --initial-cluster only for a member not yet initialized).
  let listProblem: string | undefined;
  let clusterMap: Map<string, string[]>;
  try {
    clusterMap = parseClusterList(clusterText, 'bootstrap-config');
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    listProblem = namedAsGiven(err.message, flags);
    clusterMap = parseClusterList(alone, 'advertise-peer-urls');
  }
  const initialCluster = [...clusterMap].map(([n, urls]) => ({ id: memberId(n, urls), name: n, peerUrls: urls }));
  const listed = initialCluster.find((m) => m.name === name);
  const self = listed ?? { id: memberId(name, advertisePeerUrls), name, peerUrls: advertisePeerUrls };
  const bootstrapProblem = listProblem
    ?? (listed === undefined ? `no member named "${name}" in --initial-cluster (--bootstrap-config: ${clusterText})` : clusterListProblem(clusterMap, name, advertisePeerUrls));
  const token = str(flags, 'initial-cluster-token') ?? 'deimos-cluster';
  const electionTicks = int(flags, 'election-timeout', 2);
  const heartbeatTicks = int(flags, 'heartbeat-timeout', 1);
  if (heartbeatTicks >= electionTicks) throw new FlagError('--heartbeat-timeout must be smaller than --election-timeout');
  const tickMs = parseDurationMs(str(flags, 'tick-interval')!, 'tick-interval');
  checkElectionTime(electionTicks, tickMs);
  const openFiles = openFilesLimit();
  const connDefaults = defaultConnectionLimits(openFiles);
  const cors = (str(flags, 'cors') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

  const config: ServerConfig = {
    name,
    dataDir: resolve(cwd, str(flags, 'data-dir') || `${name}.deimos`),
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    advertisePeerUrls,
    initialCluster,
    initialClusterState: oneOf(flags, 'initial-cluster-state', ['new', 'existing'] as const),
    clusterToken: token,
    memberId: self.id,
    clusterId: clusterId(initialCluster.map((m) => m.id), token),
    ...(bootstrapProblem !== undefined ? { bootstrapProblem } : {}),
    snapshotCount: int(flags, 'snapshot-count', 1),
    requestTimeoutMs: parseDurationMs(str(flags, 'timeout')!, 'timeout'),
    tickMs,
    electionTicks,
    heartbeatTicks,
    historySize: int(flags, 'history-size', 1000),
    maxRequestBytes: int(flags, 'max-request-bytes', 1024),
    maxClientConns: optionalInt(flags, 'max-client-conns', 1) ?? connDefaults.client,
    maxPeerConns: optionalInt(flags, 'max-peer-conns', 1) ?? connDefaults.peer,
    clientWorkers: parseClientWorkers(str(flags, 'client-workers') ?? 'auto'),
    checkpointThread: parseCheckpointThread(str(flags, 'checkpoint-thread') ?? 'auto'),
    commitThread: parseThreadChoice('commit-thread', str(flags, 'commit-thread') ?? 'auto', cpuBudget, COMMIT_THREAD_MIN_CPUS),
    peerThread: parseThreadChoice('peer-thread', str(flags, 'peer-thread') ?? 'auto', cpuBudget, PEER_THREAD_MIN_CPUS),
    openFilesLimit: openFiles,
    corsOrigins: cors,
    proxy: oneOf(flags, 'proxy', ['off', 'on', 'readonly'] as const),
    logLevel: logLevel(flags, warnings),
    strictReconfigCheck: flags.values.get('strict-reconfig-check') !== false,
    dashboard: flags.values.get('dashboard') !== false,
    unsafeLocalReads: env[UNSAFE_LOCAL_READS_ENV] === '1',
  };
  const clientTls = clientTlsFiles(flags, cwd, listenClientUrls);
  const peerTls = peerTlsFiles(flags, cwd, listenPeerUrls, [...advertisePeerUrls, ...initialCluster.flatMap((m) => m.peerUrls)]);
  if (clientTls) config.clientTls = clientTls;
  if (peerTls) config.peerTls = peerTls;
  for (const [auth, ...cas] of [['client-cert-auth', 'trusted-ca-file', 'ca-file'], ['peer-client-cert-auth', 'peer-trusted-ca-file', 'peer-ca-file']]) {
    const ca = cas.find((c) => str(flags, c!) !== undefined);
    if (flags.values.get(auth!) === false && ca !== undefined) {
      warnings.push(`${flags.given.get(auth!)}=false is overridden: with ${flags.given.get(ca)} client certificates are required (as etcd requires them once it has a CA)`);
    }
  }
  const electionGiven = flags.given.get('election-timeout') ?? '--election-timeout';
  return { kind: 'run', config, warnings: [...flags.shadowed, ...warnings, ...electionTimeWarnings(electionTicks, heartbeatTicks, tickMs, electionGiven)] };
}

/**
 * `--log-level`: etcd's `dpanic`, `panic` and `fatal` (levels deimos has no messages for) are taken
 * as `error`, with a warning, so that an etcd setup does not stop at them.
 */
function logLevel(flags: ParsedFlags, warnings: string[]): 'debug' | 'info' | 'warn' | 'error' {
  const v = str(flags, 'log-level');
  if (v === 'dpanic' || v === 'panic' || v === 'fatal') {
    warnings.push(`${flags.given.get('log-level')} ${v} is etcd's: taken as error (deimos logs debug, info, warn and error)`);
    return 'error';
  }
  return oneOf(flags, 'log-level', ['debug', 'info', 'warn', 'error'] as const);
}

/** Above this an election timeout is worth a word: etcd's milliseconds read as ticks land here. */
const LONG_ELECTION_MS = 10_000;

/**
 * A long election timeout is allowed (up to {@link MAX_ELECTION_MS}) but said at start: it is counted
 * in ticks here and in milliseconds by etcd, so etcd's `--election-timeout=500` (half a second)
 * copied over is 50 s without a leader after each leader's loss.
 */
function electionTimeWarnings(electionTicks: number, heartbeatTicks: number, tickMs: number, given: string): string[] {
  const ms = electionTicks * tickMs;
  // etcd refuses an election timeout under 5 heartbeats: a few heartbeats late (a pause, a busy
  // disk) then start an election. Allowed here (tests and the original Deimos use short ones), said.
  const short = electionTicks < 5 * heartbeatTicks
    ? [`the election timeout (${electionTicks} ticks) is under 5 heartbeats (--heartbeat-timeout ${heartbeatTicks} ticks), which etcd refuses: a few late heartbeats start an election`]
    : [];
  if (ms <= LONG_ELECTION_MS) return short;
  const asTicks = Math.max(1, Math.round(electionTicks / tickMs));
  return [...short, `the election timeout is ${ms / 1000} s (${given} ${electionTicks} ticks of --tick-interval ${tickMs} ms); `
    + `etcd counts --election-timeout in milliseconds: etcd's --election-timeout=${electionTicks} is --election-timeout ${asTicks} here`
    + (asTicks <= heartbeatTicks ? ` (with a --heartbeat-timeout below ${asTicks})` : '')];
}

/**
 * `--checkpoint-thread on|off|auto`. `auto` is on with more than 2 CPUs: there the checkpoints run
 * beside consensus; on 2 shared cores the thread has no core of its own and costs a second heap.
 */
export function parseCheckpointThread(value: string, cpus: () => number = () => cpuBudget()): boolean {
  return parseThreadChoice('checkpoint-thread', value, cpus);
}

/**
 * The fewest CPUs with which `--commit-thread auto` is on. On 2 shared cores (three members and
 * the load generator on them) the consensus thread spent 10-17 % less CPU per write with the
 * thread, but the members spent more in all (the batch copies and the thread's wake-ups), and the
 * paired bench against etcd measured writes at 64 clients at 1.02x etcd with it against 1.08x
 * without (3 rounds each, ranges overlapping): with no core of its own, it is left off there.
 */
export const COMMIT_THREAD_MIN_CPUS = 3;

/** The fewest CPUs with which `--peer-thread auto` is on (on 2 shared cores the thread has no core of its own). */
export const PEER_THREAD_MIN_CPUS = 3;

/**
 * A `--<flag> on|off|auto` choice of a thread beside consensus (`--checkpoint-thread`,
 * `--commit-thread`). `auto` is on from `minCpus` CPUs (default 3: on 2 shared cores a checkpoint
 * thread has no core of its own and costs a second heap).
 */
export function parseThreadChoice(flag: string, value: string, cpus: () => number = () => cpuBudget(), minCpus = 3): boolean {
  const v = value.trim();
  if (v === 'on') return true;
  if (v === 'off') return false;
  if (v === 'auto') return cpus() >= minCpus;
  throw new FlagError(`--${flag} must be 'on', 'off' or 'auto' (got "${value}")`);
}
