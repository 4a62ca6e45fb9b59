/** Process exit codes of deimosctl, the same numbers as etcdctl v2. */
export const ExitCode = {
  /** Success. */
  Success: 0,
  /** Bad arguments or a local error (file exists, a directory where a value was expected). */
  BadArgs: 1,
  /** No endpoint answered: the cluster is unreachable. */
  BadConnection: 2,
  /** Authentication failed (reserved, as in etcdctl v2, which reports refused credentials with 4 or 1). */
  BadAuth: 3,
  /** The server answered with an error (any errorCode). */
  ServerError: 4,
  /** `cluster-health` found a member that is not healthy. */
  ClusterNotHealthy: 5,
} as const;

/** One of the exit codes. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
