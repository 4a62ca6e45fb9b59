/**
 * Environment variables of command-line flags, one rule for `deimos` and `deimos-proxy`: each name
 * a flag takes on the command line has one, `<PREFIX>_<NAME>` (etcd's `ETCD_INITIAL_CLUSTER` is
 * `DEIMOS_INITIAL_CLUSTER`); a variable named after an alias used to be silently unread.
 */

/** The variable of one flag name: `DEIMOS_LISTEN_CLIENT_URLS` for `listen-client-urls`. */
export function envName(prefix: string, flag: string): string {
  return `${prefix}_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Every variable of a flag, its main name's first. */
export function envNames(prefix: string, flag: { name: string; aliases?: readonly string[] }): string[] {
  return [flag.name, ...(flag.aliases ?? [])].map((n) => envName(prefix, n));
}
