/**
 * Environment variables that look like settings but that no flag reads, each reported as a warning
 * line at start (etcd warns of every unrecognised `ETCD_*` variable). A misspelt or etcd-named
 * variable is otherwise silently unread: three members given `ETCD_INITIAL_CLUSTER` each started a
 * cluster of their own.
 */
import { envName, envNames } from './env-names.js';

/** What of a flag's declaration the check needs (the server's and the proxy's parsers both have it). */
export interface EnvFlagSpec {
  name: string;
  aliases?: readonly string[];
  /** Set for flags that have no environment variable. */
  noEnv?: boolean;
}

/**
 * Variables with the prefix `DEIMOS` that are not the member's flags but are read by deimos's other
 * parts (tests, benchmarks, deimos-proxy, client workers, deimosctl's commands), so not worth a warning.
 */
export const DEIMOS_OTHER_READERS: readonly string[] = ['TEST_', 'PROXY_', 'WORKER_', 'LOCK_', 'WATCH_', 'SERVICE_', 'E2E_', 'BIN', 'SCREENSHOTS', 'CHROMIUM'];

/** What the check is told beyond the flags: who else reads the prefix, and what to say of etcd flags. */
export interface UnreadEnvironmentOptions {
  /** Names after `<prefix>_` read elsewhere: a name ending `_` covers every variable it starts. */
  otherReaders?: readonly string[];
  /** What to write instead of an etcd flag this program does not have, by flag name. */
  hints?: ReadonlyMap<string, string>;
  /** The flags read etcd's `ETCD_<FLAG>` names too (after the prefix's): those are not warned about. */
  readsEtcd?: boolean;
}

/** One line per variable of `env` named like a setting of `prefix` (or etcd's) that no flag of `specs` reads. */
export function unreadEnvironment(
  specs: readonly EnvFlagSpec[], env: Readonly<Record<string, string | undefined>>, prefix: string,
  options: UnreadEnvironmentOptions = {},
): string[] {
  const hints = options.hints ?? new Map<string, string>();
  const otherReaders = options.otherReaders ?? [];
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
      if (read.has(name) || otherReaders.some((p) => (p.endsWith('_') ? rest.startsWith(p) : rest === p))) continue;
      const hint = hintFor(rest);
      lines.push(hint !== undefined
        ? `environment variable ${name} is not a setting of this program and is ignored: ${hint}`
        : `environment variable ${name} is not a setting of this program and is ignored (see --help for the ${prefix}_* names)`);
    } else if (name.startsWith('ETCD_')) {
      const ours = byFlag.get(name);
      if (ours !== undefined && options.readsEtcd === true) continue;
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
