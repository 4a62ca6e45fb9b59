/** An error of the v2 auth API, answered as etcd does: `{"message": ...}` with an HTTP status. */
export class AuthError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * Too many password checks are waiting (a flood of uncached credentials): the caller is told to
 * retry, never that its credentials are wrong, and nothing is counted against its name or address.
 */
export class AuthBusyError extends AuthError {
  constructor() {
    super(503, 'too many password checks are waiting; retry later');
    this.name = 'AuthBusyError';
  }
}
