/** An error of the v2 auth API, answered as etcd does: `{"message": ...}` with an HTTP status. */
export class AuthError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'AuthError';
  }
}
