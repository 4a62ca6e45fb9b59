/** Why a proxy could not start. */

/** A proxy that could not start; `code` is stable. */
export class ProxyStartError extends Error {
  constructor(readonly code: 'ERR_PROXY_SELF' | 'ERR_PROXY_LISTEN' | 'ERR_PROXY_TLS', message: string) {
    super(message);
    this.name = 'ProxyStartError';
  }
}
