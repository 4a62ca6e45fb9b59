/**
 * Absolute-form request targets (`GET http://host:port/v2/keys/a`, what a client speaking to a
 * proxy sends; RFC 9112 says servers must accept them): Go's server routes them by the path after
 * the authority, and so do the member and deimos-proxy.
 */

/**
 * The origin form (path and query) of an absolute-form request target: `http://h:1/a?b` is `/a?b`,
 * `http://h:1` and `http://h:1?q` are `/` and `/?q`. Anything else (`*`, an authority) is left as it is.
 */
export function originForm(target: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (m === null) return target;
  const rest = target.slice(m[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
