/**
 * Go's net/http refusals of a request node:http would serve: an HTTP/1.1 request without a Host
 * header, or with more than one, a request line naming a major version other than 1, and a target
 * whose path holds a malformed `%` escape (Go's `url.ParseRequestURI` fails on it). Go answers them itself, before any handler, with the reason in the
 * status line and the body, and closes the connection. etcd's client port and its proxy are Go
 * servers, so the member and the proxy answer the same bytes (node:http's own check,
 * `requireHostHeader`, is off on both). Plain string code, so that server and proxy share it.
 */

/** Go's raw answer to a request it refuses (`statusError` in net/http's server.go). */
function goStatusAnswer(status: string, reason: string): string {
  const line = `${status}: ${reason}`;
  return `HTTP/1.1 ${line}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${line}`;
}

/** Go's raw answer to a request it refuses as malformed. */
export function goBadRequestAnswer(reason: string): string {
  return goStatusAnswer('400 Bad Request', reason);
}

/** What Go's Host check looks at in a request node:http parsed. */
export interface HostCheckedRequest {
  method?: string | undefined;
  /** The request target as sent. */
  url?: string | undefined;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Names and values, alternating, as they came (node:http's `rawHeaders`). */
  rawHeaders: readonly string[];
}

/**
 * Go's answer to a request line it cannot parse: the bare status, no reason (its `default` case),
 * e.g. for a malformed escape in the target's path.
 */
export const GO_BAD_REQUEST_ANSWER = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';

/**
 * Whether the target's path (everything before `?`) holds a `%` not followed by two hex digits.
 * Go decodes the path while parsing the request line and refuses the request then; the query is
 * kept raw there (a bad escape in it is the handler's form error).
 */
export function hasMalformedPathEscape(target: string): boolean {
  let end = target.indexOf('?');
  if (end < 0) end = target.length;
  for (let i = target.indexOf('%'); i >= 0 && i < end; i = target.indexOf('%', i + 1)) {
    if (i + 2 >= end || !isHex(target.charCodeAt(i + 1)) || !isHex(target.charCodeAt(i + 2))) return true;
  }
  return false;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Go's raw answer for `req` when Go refuses it before any handler, or undefined: a major HTTP
 * a malformed escape in the target's path, a major HTTP version other than 1 (505; node:http
 * serves `HTTP/2.0` on a request line), then the Host rules.
 */
export function goRequestRefusal(req: HostCheckedRequest): string | undefined {
  // Go parses the target with the request line, before it looks at the version or the headers.
  if (req.url !== undefined && hasMalformedPathEscape(req.url)) return GO_BAD_REQUEST_ANSWER;
  if (req.httpVersionMajor !== 1) return goStatusAnswer('505 HTTP Version Not Supported', 'unsupported protocol version');
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return goBadRequestAnswer('too many Host headers');
  const http11 = req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
  if (hosts === 0 && http11 && req.method !== 'CONNECT') return goBadRequestAnswer('missing required Host header');
  return undefined;
}
