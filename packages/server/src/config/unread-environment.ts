/**
 * Environment variables that look like settings but that no flag reads, each reported as a warning
 * line at start (etcd warns of every unrecognised `ETCD_*` variable). A misspelt or etcd-named
 * variable is otherwise silently unread: three members given `ETCD_INITIAL_CLUSTER` each started a
 * cluster of their own.
 */
import { envName, envNames, type FlagSpec } from './flag-parser.js';

/**
 * Variables with the prefix that are not this binary's flags but are read by deimos's other parts
 * (tests, benchmarks, deimos-proxy, client workers, deimosctl's commands), so not worth a warning.
 */
const OTHER_READERS = ['TEST_', 'PROXY_', 'WORKER_', 'LOCK_', 'WATCH_', 'SERVICE_', 'E2E_', 'BIN', 'SCREENSHOTS', 'CHROMIUM'];

/** One line per variable of `env` named like a setting of `prefix` (or etcd's) that no flag of `specs` reads. */
export function unreadEnvironment(
  specs: readonly FlagSpec[], env: Readonly<Record<string, string | undefined>>, prefix: string,
  hints: ReadonlyMap<string, string> = new Map(),
): string[] {
  /** What to write instead of an etcd flag deimos does not have (`ETCD_HEARTBEAT_INTERVAL`), if known. */
  const hintFor = (rest: string): string | undefined => hints.get(rest.toLowerCase().replace(/_/g, '-'));
  const read = new Set<string>();
  const byFlag = new Map<string, string>();
  for (const spec of specs) {
    if (spec.noEnv) continue;
    const names = envNames(prefix, spec);
    for (const n of names) read.add(n);
    for (const flag of [spec.name, ...(spec.aliases ?? [])]) byFlag.set(envName('ETCD', flag), envName(prefix, flag));
  }
  const lines: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith(`${prefix}_`)) {
      const rest = name.slice(prefix.length + 1);
      if (read.has(name) || OTHER_READERS.some((p) => (p.endsWith('_') ? rest.startsWith(p) : rest === p))) continue;
      const hint = hintFor(rest);
      lines.push(hint !== undefined
        ? `environment variable ${name} is not a setting of this program and is ignored: ${hint}`
        : `environment variable ${name} is not a setting of this program and is ignored (see --help for the ${prefix}_* names)`);
    } else if (name.startsWith('ETCD_')) {
      const ours = byFlag.get(name);
      const hint = hintFor(name.slice('ETCD_'.length));
      lines.push(ours !== undefined
        ? `environment variable ${name} is etcd's and is not read: this program reads ${ours}`
        : hint !== undefined
          ? `environment variable ${name} is etcd's and is not read: ${hint}`
          : `environment variable ${name} is etcd's and is not read (see --help for the ${prefix}_* names)`);
    }
  }
  return lines;
}
