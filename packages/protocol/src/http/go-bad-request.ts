/**
 * Go's net/http refusals of a request node:http would serve: an HTTP/1.1 request without a Host
 * header, or with more than one. Go answers them itself, before any handler, with the reason in the
 * status line and the body, and closes the connection. etcd's client port and its proxy are Go
 * servers, so the member and the proxy answer the same bytes (node:http's own check,
 * `requireHostHeader`, is off on both). Plain string code, so that server and proxy share it.
 */

/** Go's raw answer to a request it refuses as malformed (`statusError` in net/http's server.go). */
export function goBadRequestAnswer(reason: string): string {
  const status = `400 Bad Request: ${reason}`;
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`;
}

/** What Go's Host check looks at in a request node:http parsed. */
export interface HostCheckedRequest {
  method?: string | undefined;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Names and values, alternating, as they came (node:http's `rawHeaders`). */
  rawHeaders: readonly string[];
}

/** Go's raw 400 answer for `req` when Go refuses it for its Host header, or undefined. */
export function goHostRefusal(req: HostCheckedRequest): string | undefined {
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
