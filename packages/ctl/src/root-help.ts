/** The examples section `deimosctl --help` ends with (oclif's root help has none of its own). */

/** True when argv asks for the root help (`deimosctl`, `deimosctl --help`, `deimosctl help`). */
export function isRootHelp(argv: readonly string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && ['--help', '-h', 'help'].includes(argv[0]!));
}

/** Examples for the root help, in oclif's layout. */
export const ROOT_EXAMPLES = `EXAMPLES
  $ deimosctl set /foo bar
  $ deimosctl get /foo
  $ deimosctl -o extended get /foo
  $ deimosctl ls / --recursive -p
  $ deimosctl watch /dir --recursive --forever
  $ deimosctl exec-watch /config -- ./reload.sh
  $ deimosctl member list --endpoints http://10.0.0.1:4001,http://10.0.0.2:4001
  $ deimosctl cluster-health
  $ deimosctl lock /locks/deploy -- ./deploy.sh
  $ deimosctl elect /election/scheduler node1
  $ deimosctl service register web web1 http://10.0.0.1:8080
  $ deimosctl cert ca && deimosctl cert server --ip 10.0.0.1

Global flags on every command but cert: --endpoints (also -C, --peers, --endpoint; env DEIMOSCTL_ENDPOINTS
or ETCDCTL_ENDPOINTS), -o/--output simple|json|extended, --timeout, --total-timeout, --ca-file, --cert-file,
--key-file (env DEIMOSCTL_* or ETCDCTL_*), --debug, --no-sync, --no-color.
Help: -h/--help after any command, or deimosctl help [command]. Version: -v/--version.
Exit codes: 0 ok, 1 bad arguments or local error, 2 cluster unreachable, 4 server error, 5 cluster not healthy.

`;
