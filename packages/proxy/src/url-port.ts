/**
 * The port of an http(s) URL as the user wrote it. WHATWG URL drops a scheme's default port
 * (`http://h:80` parses with `port === ''`), yet an explicit `:80` or `:443` does name a port.
 */

/**
 * True when the URL text names a port, the scheme's default included: WHATWG URL drops `:80` from
 * `http://h:80` (and `:443` from https), yet the user did name a port.
 */
export function namesPort(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):\d+(?:[/?#]|$)/i.test(text.trim());
}

/** The port of a parsed http(s) URL as a number, the scheme's default when the URL elides it. */
export function portOf(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}
