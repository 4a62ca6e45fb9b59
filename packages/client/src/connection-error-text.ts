/**
 * One clear line for an error that kept a request from getting an answer, with a hint for the TLS
 * failures a user can fix (a missing client certificate, an unknown CA), instead of OpenSSL's
 * multi-part text. Decided by error `code`, never by message text (except to shorten OpenSSL's).
 */

/** Codes of a server certificate the client could not verify. */
const UNVERIFIED_SERVER = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED',
]);

/** OpenSSL alerts by which a server refuses the client's certificate. */
const REFUSED_CLIENT_CERT = /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR|ACCESS_DENIED)$/;

/** `err.message` shortened: OpenSSL's `...:SSL routines:func:reason:file:line:...` becomes `reason`. */
function shortMessage(err: Error): string {
  const ssl = /SSL routines:[^:]*:([^:]+):/.exec(err.message);
  const text = ssl ? ssl[1]! : err.message;
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
}

/** A duration for people: `2s`, `1.5s`, `250ms`. */
export function formatMs(ms: number): string {
  return ms >= 1_000 && ms % 100 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}

/**
 * got's timeout (`Timeout awaiting 'request' for 5000ms`) in plain words, with the endpoint:
 * `http://h:p: no answer within 5s`; undefined for any other error.
 */
function timeoutText(err: Error & { code?: unknown }): string | undefined {
  if (err.name !== 'TimeoutError' || err.code !== 'ETIMEDOUT') return undefined;
  const { event, options } = err as { event?: string; options?: { url?: unknown; timeout?: Record<string, unknown> } };
  const limit = event !== undefined ? options?.timeout?.[event] : undefined;
  const within = typeof limit === 'number' ? ` within ${formatMs(limit)}` : '';
  const url = options?.url;
  const origin = url instanceof URL ? `${url.origin}: ` : '';
  return event === 'response' ? `${origin}no response${within}` : `${origin}no answer${within}`;
}

/** The error's text with a hint where the code says what to fix; `tls` when the endpoint was https. */
export function connectionErrorText(err: Error & { code?: unknown }, tls: boolean): string {
  const code = typeof err.code === 'string' ? err.code : '';
  const timeout = timeoutText(err);
  if (timeout !== undefined) return timeout;
  const text = shortMessage(err);
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') return `TLS handshake refused: the server requires a client certificate (${text})`;
  if (REFUSED_CLIENT_CERT.test(code)) return `TLS handshake refused: the server does not accept this client certificate (${text})`;
  if (UNVERIFIED_SERVER.has(code)) return `TLS: cannot verify the server's certificate: ${text} (is its CA given?)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: the server's certificate does not name this host: ${text}`;
  if (tls && (code === 'ECONNRESET' || code === 'EPIPE')) return `${text} (over TLS: the server may have refused the client certificate)`;
  return text;
}
