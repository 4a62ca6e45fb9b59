/**
 * The proxy's configuration from flags and environment (`DEIMOS_PROXY_<FLAG>` for the standalone
 * binary, `DEIMOS_<FLAG>` under `deimos --proxy`), validated into a {@link ProxyConfig}.
 */
import { namesPort, portOf } from './url-port.js';
import { defaultMaxClientConns, readOpenFilesLimit } from './client-connection-limit.js';
import { DEIMOS_OTHER_READERS, DurationError, parseTimerDurationMs, unreadEnvironment } from '@deimos/protocol';
import { ProxyConfigError, parseFlags, renderHelp, type FlagSpec, type FlagValues } from './flags.js';
import { AUTO_CLIENT_WORKERS_CAP, autoClientWorkers, cpuBudget } from '@deimos/net';

/** Most proxy worker processes accepted. */
export const MAX_PROXY_WORKERS = 64;

/** Everything a running proxy needs. */
export interface ProxyConfig {
  /** `on` forwards everything; `readonly` lets only GET and HEAD through. */
  mode: 'on' | 'readonly';
  /** URLs to accept clients on (`scheme://host:port`; port 0 picks a free port). */
  listenUrls: string[];
  /** Client URLs of cluster members to start discovery from. */
  endpoints: string[];
  /** Peer URLs from `--bootstrap-config`, asked for the members' client URLs (`GET <peer>/members`). */
  bootstrapPeerUrls: string[];
  refreshIntervalMs: number;
  failureWaitMs: number;
  dialTimeoutMs: number;
  /** Longest wait for response headers of a non-watch request before the member counts as failed. */
  responseTimeoutMs: number;
  /** Largest request body buffered (and so retryable); bigger bodies get 413. */
  maxRequestBytes: number;
  /** Most client connections open at once across the listen URLs; more are answered 503 and closed. */
  maxClientConns: number;
  tls: {
    certFile?: string;
    keyFile?: string;
    trustedCaFile?: string;
    clientCertAuth: boolean;
    /** Credentials for `--bootstrap-config` peer URLs (etcd's proxy uses its peer TLS there); default: the ones above. */
    peerCertFile?: string;
    peerKeyFile?: string;
    peerTrustedCaFile?: string;
  };
  /** Serve the web dashboard at /dashboard/ (--dashboard, default true). */
  dashboard: boolean;
  /** Processes serving the listen URLs (proxy-workers.ts); 0: this process serves them itself. */
  clientWorkers: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** What a command line asks for. */
export type ProxyStartRequest = { kind: 'help'; text: string } | { kind: 'version' } | {
  kind: 'run';
  config: ProxyConfig;
  /** Environment variables named like settings that no flag reads, a line each (to warn of at start). */
  unreadEnvironment: string[];
};

/** How the command line is read. */
export interface ParseProxyOptions {
  /** Environment prefix (default `DEIMOS_PROXY`). */
  envPrefix?: string;
  /** Program name for help (default `deimos-proxy`). */
  program?: string;
  /** Flags accepted and ignored (the member flags when `deimos --proxy` runs the proxy). */
  tolerated?: readonly FlagSpec[];
  /** Default of --listen-client-urls (default http://127.0.0.1:8080). */
  defaultListenUrl?: string;
  /** Also read `<prefix>_<FLAG>` variables after `envPrefix`'s (`deimos --proxy`: `ETCD`, as a member does). */
  fallbackEnvPrefix?: string;
  /**
   * --trusted-ca-file alone requires client certificates signed by it (`deimos --proxy`: as a member
   * does, and as etcd 3.4's proxy mode does); otherwise only --client-cert-auth does.
   */
  caRequiresClientCerts?: boolean;
}

/** Every flag of the proxy. */
export function proxyFlags(defaultListenUrl = 'http://127.0.0.1:8080'): FlagSpec[] {
  return [
    { name: 'listen-client-urls', kind: 'string', defaultValue: defaultListenUrl, description: 'Comma-separated URLs the proxy serves clients on.' },
    { name: 'endpoints', kind: 'string', description: 'Comma-separated client URLs of cluster members to start from (the rest is discovered).' },
    { name: 'bootstrap-config', aliases: ['initial-cluster'], kind: 'string', description: 'The cluster as name=peerURL,...; client URLs are learned from the members (GET <peerURL>/members).' },
    { name: 'proxy', kind: 'string', defaultValue: 'on', description: "'on' forwards every request; 'readonly' only GET and HEAD (others get 501)." },
    { name: 'refresh-interval', kind: 'string', defaultValue: '30s', description: 'How often the member list is refreshed from /v2/members (a duration with its unit, e.g. 30s, 500ms).' },
    { name: 'failure-wait', kind: 'string', defaultValue: '5s', description: 'How long a member that refused or timed out is skipped (a duration with its unit, e.g. 5s).' },
    { name: 'dial-timeout', kind: 'string', defaultValue: '1s', description: 'Longest wait for a connection to a member (e.g. 1s, 500ms).' },
    { name: 'response-timeout', kind: 'string', defaultValue: '10s', description: 'Longest wait for the response headers of a request that is not a watch (e.g. 10s).' },
    { name: 'max-request-bytes', kind: 'integer', defaultValue: '4194304', description: 'Largest request body accepted, in bytes.' },
    { name: 'max-client-conns', kind: 'integer', description: 'Most client connections open at once, across all listen URLs (watches included); more are answered 503 and closed. Default: derived from the open-files limit, two descriptors a connection (its own and one to a member).' },
    { name: 'cert-file', kind: 'string', description: 'TLS certificate of the listener; also the client certificate towards https members.' },
    { name: 'key-file', kind: 'string', description: 'TLS key matching --cert-file.' },
    { name: 'trusted-ca-file', aliases: ['ca-file'], kind: 'string', description: 'CA bundle that verifies https members and, with --client-cert-auth, clients.' },
    { name: 'client-cert-auth', kind: 'boolean', defaultValue: 'false', description: 'Require client certificates signed by --trusted-ca-file.' },
    { name: 'peer-cert-file', kind: 'string', description: 'Client certificate towards https peer URLs of --bootstrap-config (default: --cert-file).' },
    { name: 'peer-key-file', kind: 'string', description: 'TLS key matching --peer-cert-file.' },
    { name: 'peer-trusted-ca-file', aliases: ['peer-ca-file'], kind: 'string', description: 'CA bundle that verifies https peer URLs of --bootstrap-config (default: --trusted-ca-file).' },
    { name: 'dashboard', kind: 'boolean', defaultValue: 'true', description: 'Serve the web dashboard at /dashboard/ (its API calls are forwarded to the members like any other); --dashboard=false turns it off.' },
    { name: 'log-level', kind: 'string', defaultValue: 'info', description: "'debug', 'info', 'warn' or 'error'." },
    { name: 'client-workers', kind: 'string', defaultValue: 'auto', description: `Worker processes that serve the listen URLs together (one listening socket, the kernel spreads connections; this process runs discovery for them); 0 serves them in this one process. 'auto' (the default): one per CPU this process may use (taskset/cpuset and cgroup quota) but one, up to ${AUTO_CLIENT_WORKERS_CAP}, and 0 with 2 CPUs or fewer. --max-client-conns bounds them together.` },
    { name: 'version', kind: 'boolean', noEnv: true, description: 'Print the version and exit.' },
    { name: 'help', aliases: ['h'], kind: 'boolean', noEnv: true, description: 'Print this help and exit.' },
  ];
}

/**
 * Parses a positive duration flag with Go's rule, the same as `deimos` and `deimosctl` (a unit is
 * required: `5s`, `800ms`, `1m30s`), in whole milliseconds within a timer's range (`parseTimerDurationMs`).
 */
export function parseDurationMs(text: string, flag: string): number {
  try {
    return parseTimerDurationMs(text, flag);
  } catch (err) {
    if (err instanceof DurationError) throw new ProxyConfigError(err.message);
    throw err;
  }
}

/** Checks one URL and returns it as `scheme://host:port`. */
export function normalizeUrl(text: string, flag: string, allowPortZero = false): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ProxyConfigError(`--${flag}: "${text}" is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProxyConfigError(`--${flag}: URL scheme must be http or https: ${text}`);
  if (url.port === '' && !namesPort(text) && !(allowPortZero && /:0\/?$/.test(text.trim()))) throw new ProxyConfigError(`--${flag}: URL must name a port: ${text}`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new ProxyConfigError(`--${flag}: URL must not have a path: ${text}`);
  }
  return `${url.protocol}//${url.hostname}:${portOf(url)}`;
}

function urlList(text: string | undefined, flag: string, allowPortZero = false): string[] {
  const parts = (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(parts.map((p) => normalizeUrl(p, flag, allowPortZero)))];
}

function bootstrapPeers(text: string | undefined): string[] {
  const urls: string[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ProxyConfigError(`--bootstrap-config: "${part}" is not name=URL`);
    const url = normalizeUrl(part.slice(eq + 1), 'bootstrap-config');
    if (!urls.includes(url)) urls.push(url);
  }
  return urls.sort();
}

/** `--client-workers N|auto` of the proxy; `auto` is the member's count (@deimos/net's auto-client-workers.ts). */
export function parseProxyWorkers(value: string, cpus: () => number = () => cpuBudget()): number {
  const v = value.trim();
  if (v === 'auto') return autoClientWorkers(cpus());
  if (!/^\d+$/.test(v) || Number(v) > MAX_PROXY_WORKERS) {
    throw new ProxyConfigError(`--client-workers must be 'auto' or an integer from 0 to ${MAX_PROXY_WORKERS} (got "${value}")`);
  }
  return Number(v);
}

function str(values: FlagValues, name: string): string | undefined {
  const v = values.get(name);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function oneOf<T extends string>(values: FlagValues, name: string, allowed: readonly T[]): T {
  const v = str(values, name) ?? '';
  if (!(allowed as readonly string[]).includes(v)) throw new ProxyConfigError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

/** Parses a command line and environment; throws {@link ProxyConfigError} on bad input. */
export function parseProxyArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, opts: ParseProxyOptions = {}): ProxyStartRequest {
  const envPrefix = opts.envPrefix ?? 'DEIMOS_PROXY';
  const specs = proxyFlags(opts.defaultListenUrl);
  const values = parseFlags(specs, argv, env, envPrefix, opts.tolerated, opts.fallbackEnvPrefix);
  if (values.get('help') === true) {
    const program = opts.program ?? 'deimos-proxy';
    const title = `${program}: forwards the etcd v2 API to the members of a Deimos cluster, discovered and kept current`;
    return { kind: 'help', text: renderHelp(title, `${program} [flags] (--endpoints URL,... or --bootstrap-config name=peerURL,...)`, specs, envPrefix) };
  }
  if (values.get('version') === true) return { kind: 'version' };
  const endpoints = urlList(str(values, 'endpoints'), 'endpoints');
  const bootstrapPeerUrls = bootstrapPeers(str(values, 'bootstrap-config'));
  if (endpoints.length === 0 && bootstrapPeerUrls.length === 0) {
    throw new ProxyConfigError('no cluster given: set --endpoints (client URLs) or --bootstrap-config (name=peerURL,...)');
  }
  const listenUrls = urlList(str(values, 'listen-client-urls'), 'listen-client-urls', true);
  if (listenUrls.length === 0) throw new ProxyConfigError('--listen-client-urls needs at least one URL');
  const tls = {
    certFile: str(values, 'cert-file'),
    keyFile: str(values, 'key-file'),
    trustedCaFile: str(values, 'trusted-ca-file'),
    clientCertAuth: values.get('client-cert-auth') === true || (opts.caRequiresClientCerts === true && str(values, 'trusted-ca-file') !== undefined),
    peerCertFile: str(values, 'peer-cert-file'),
    peerKeyFile: str(values, 'peer-key-file'),
    peerTrustedCaFile: str(values, 'peer-trusted-ca-file'),
  };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new ProxyConfigError('--cert-file and --key-file go together');
  if ((tls.peerCertFile === undefined) !== (tls.peerKeyFile === undefined)) throw new ProxyConfigError('--peer-cert-file and --peer-key-file go together');
  for (const url of listenUrls) {
    if (url.startsWith('https:') && !tls.certFile) throw new ProxyConfigError(`${url}: an https listener needs --cert-file and --key-file`);
  }
  if (tls.clientCertAuth && !tls.trustedCaFile) throw new ProxyConfigError('--client-cert-auth needs --trusted-ca-file');
  const maxRequestBytes = Number(str(values, 'max-request-bytes'));
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes < 1024) throw new ProxyConfigError('--max-request-bytes must be an integer ≥ 1024');
  const connsFlag = str(values, 'max-client-conns');
  const maxClientConns = connsFlag === undefined ? defaultMaxClientConns(readOpenFilesLimit()) : Number(connsFlag);
  if (!Number.isSafeInteger(maxClientConns) || maxClientConns < 1) throw new ProxyConfigError('--max-client-conns must be an integer ≥ 1');
  // Standalone, only the proxy's own prefix is checked (the worker index is set by the proxy itself);
  // as `deimos --proxy`, the member's variables are read (and ignored) too.
  const otherReaders = envPrefix === 'DEIMOS' ? DEIMOS_OTHER_READERS : ['WORKER_INDEX'];
  return {
    kind: 'run',
    unreadEnvironment: unreadEnvironment([...specs, ...(opts.tolerated ?? [])], env, envPrefix, { otherReaders, readsEtcd: opts.fallbackEnvPrefix === 'ETCD' }),
    config: {
      mode: oneOf(values, 'proxy', ['on', 'readonly'] as const),
      listenUrls,
      endpoints,
      bootstrapPeerUrls,
      refreshIntervalMs: parseDurationMs(str(values, 'refresh-interval')!, 'refresh-interval'),
      failureWaitMs: parseDurationMs(str(values, 'failure-wait')!, 'failure-wait'),
      dialTimeoutMs: parseDurationMs(str(values, 'dial-timeout')!, 'dial-timeout'),
      responseTimeoutMs: parseDurationMs(str(values, 'response-timeout')!, 'response-timeout'),
      maxRequestBytes,
      maxClientConns,
      tls,
      dashboard: values.get('dashboard') !== false,
      clientWorkers: parseProxyWorkers(str(values, 'client-workers') ?? 'auto'),
      logLevel: oneOf(values, 'log-level', ['debug', 'info', 'warn', 'error'] as const),
    },
  };
}
