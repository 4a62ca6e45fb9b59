/**
 * etcdctl's environment beside deimosctl's own: an unset `DEIMOSCTL_*` variable is taken from the
 * etcdctl name(s) for the same setting, so that an environment set up for etcdctl works unchanged.
 */

/** DEIMOSCTL_* name -> the etcdctl names, in etcdctl's precedence (--endpoints over --endpoint over --peers). */
export const ETCDCTL_ENV: Readonly<Record<string, readonly string[]>> = {
  DEIMOSCTL_ENDPOINTS: ['ETCDCTL_ENDPOINTS', 'ETCDCTL_ENDPOINT', 'ETCDCTL_PEERS'],
  DEIMOSCTL_CA_FILE: ['ETCDCTL_CA_FILE'],
  DEIMOSCTL_CERT_FILE: ['ETCDCTL_CERT_FILE'],
  DEIMOSCTL_KEY_FILE: ['ETCDCTL_KEY_FILE'],
  DEIMOSCTL_USERNAME: ['ETCDCTL_USERNAME'],
};

/** Fills unset (or empty) DEIMOSCTL_* variables of `env` from their etcdctl names; DEIMOSCTL_* wins. */
export function applyEtcdctlEnv(env: NodeJS.ProcessEnv): void {
  for (const [ours, theirs] of Object.entries(ETCDCTL_ENV)) {
    if ((env[ours] ?? '') !== '') continue;
    const from = theirs.find((name) => (env[name] ?? '') !== '');
    if (from !== undefined) env[ours] = env[from];
  }
}
