/**
 * Which endpoints etcdctl uses when several of its ways to name them are given at once: its
 * `--endpoints` flag, then ETCDCTL_ENDPOINTS, then `--endpoint`, then ETCDCTL_ENDPOINT, then
 * `--peers`/`-C`, then ETCDCTL_PEERS (its getPeersFlagValue), each flag at its last value. oclif
 * reads the three flags as one (the last on the line wins) and any flag over the environment, so
 * `ETCDCTL_ENDPOINTS=a deimosctl --peers b get /k` read b where etcdctl reads a.
 */

/** The endpoint flags and which of etcdctl's settings each one is. */
const ENDPOINT_FLAGS: Readonly<Record<string, 'endpoints' | 'endpoint' | 'peers'>> = {
  '--endpoints': 'endpoints', '--endpoint': 'endpoint', '--peers': 'peers', '-C': 'peers',
};

/**
 * argv with its endpoint flags replaced by one `--endpoints` naming what etcdctl would use (the
 * environment's value when it ranks higher); unchanged when no endpoint flag is given (the
 * environment alone is read as before). Reads the environment as the user set it (before
 * DEIMOSCTL_ENDPOINTS is filled from the etcdctl names). Nothing after a `--` is touched.
 */
export function etcdctlEndpointArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const dashes = argv.indexOf('--');
  const own = dashes < 0 ? argv : argv.slice(0, dashes);
  const rest = dashes < 0 ? [] : argv.slice(dashes);
  const given: Partial<Record<'endpoints' | 'endpoint' | 'peers', string>> = {};
  const out: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const arg = own[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const kind = ENDPOINT_FLAGS[eq > 0 ? arg.slice(0, eq) : arg];
    if (kind === undefined || (eq < 0 && i + 1 >= own.length)) {
      out.push(arg); // not an endpoint flag, or one without its value: oclif says what is wrong
      continue;
    }
    given[kind] = eq > 0 ? arg.slice(eq + 1) : own[++i]!;
  }
  if (Object.keys(given).length === 0) return [...argv];
  const set = (v: string | undefined): string | undefined => (v !== undefined && v !== '' ? v : undefined);
  const chosen = set(given.endpoints) ?? set(env.DEIMOSCTL_ENDPOINTS) ?? set(env.ETCDCTL_ENDPOINTS) ?? set(given.endpoint)
    ?? set(env.ETCDCTL_ENDPOINT) ?? set(given.peers) ?? set(env.ETCDCTL_PEERS);
  return chosen === undefined ? [...out, ...rest] : [...out, '--endpoints', chosen, ...rest];
}
