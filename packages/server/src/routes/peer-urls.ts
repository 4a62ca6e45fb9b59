/**
 * The body of a members API add or update (`{"peerURLs":[...]}`), checked as etcd 3.4 checks it:
 * Go's `json.Unmarshal` into `struct { PeerURLs []string }` (whole body, field names matched without
 * regard to case, the last match winning), then `types.NewURLs` (each URL trimmed, parsed, an
 * http/https/unix/unixs scheme, a `host:port` address, no path; the list sorted). A URL that
 * passes is stored in Go's `url.String()` form. A peer URL without a port or with a path would be
 * accepted by a looser check and then never dialled: on a one-member cluster that add loses the
 * quorum for good.
 */
import { goJsonSyntaxError } from '../http/go-json-syntax.js';
import { compareKeys } from '../store/store-path.js';

/** A body etcd refuses with 400, and its message. */
export class PeerUrlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerUrlsError';
  }
}

/** The Go type names in `json.Unmarshal`'s type errors for this struct. */
const STRUCT_TYPE = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : (typeof v as string);
}

/** The peer URLs of a members API body, in etcd's stored form and order; throws {@link PeerUrlsError}. */
export function parsePeerUrlsBody(text: string): string[] {
  const syntax = goJsonSyntaxError(text);
  if (syntax !== undefined) throw new PeerUrlsError(syntax);
  const body: unknown = JSON.parse(text);
  if (body === null) throw new PeerUrlsError('no valid URLs given');
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new PeerUrlsError(`json: cannot unmarshal ${jsonKind(body)} into Go value of type ${STRUCT_TYPE}`);
  }
  let urls: unknown;
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() === 'peerurls') urls = v;
  if (urls === undefined || urls === null) throw new PeerUrlsError('no valid URLs given');
  if (!Array.isArray(urls)) throw new PeerUrlsError(`json: cannot unmarshal ${jsonKind(urls)} into Go struct field .peerURLs of type []string`);
  for (const u of urls) {
    if (typeof u !== 'string' && u !== null) throw new PeerUrlsError(`json: cannot unmarshal ${jsonKind(u)} into Go struct field .peerURLs of type string`);
  }
  if (urls.length === 0) throw new PeerUrlsError('no valid URLs given');
  // Go leaves a JSON null in a []string as "".
  return urls.map((u: string | null) => checkPeerUrl(u ?? '')).sort(compareKeys);
}

/** One URL through `types.NewURLs`' checks; its `url.String()` form. */
function checkPeerUrl(raw: string): string {
  const input = raw.trim();
  const u = parseGoUrl(input);
  if (!['http', 'https', 'unix', 'unixs'].includes(u.scheme)) throw new PeerUrlsError(`URL scheme must be http, https, unix, or unixs: ${input}`);
  if (!isHostPort(u.host)) throw new PeerUrlsError(`URL address does not have the form "host:port": ${input}`);
  if (u.path !== '') throw new PeerUrlsError(`URL must not contain a path: ${input}`);
  return `${u.scheme}://${u.userinfo}${u.host}${u.rest}`;
}

interface GoUrl {
  scheme: string;
  /** `user@` or ''. */
  userinfo: string;
  host: string;
  path: string;
  /** `?query` and `#fragment` as given. */
  rest: string;
}

/** The parts of a URL as Go's `url.Parse` splits them, with its errors for what a peer URL can meet. */
function parseGoUrl(s: string): GoUrl {
  const fail = (why: string): PeerUrlsError => new PeerUrlsError(`parse ${JSON.stringify(s)}: ${why}`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw fail('net/url: invalid control character in URL');
  }
  let rest = s;
  let scheme = '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = s.slice(m[0].length);
  } else if (/^[^/?#]*:/.test(s) && !s.startsWith(':')) {
    // A colon before any slash without a valid scheme: Go's "first path segment in URL cannot contain colon".
    throw fail('first path segment in URL cannot contain colon');
  } else if (s.startsWith(':')) {
    throw fail('missing protocol scheme');
  }
  const qf = rest.search(/[?#]/);
  const tail = qf < 0 ? '' : rest.slice(qf);
  rest = qf < 0 ? rest : rest.slice(0, qf);
  if (!rest.startsWith('//')) return { scheme, userinfo: '', host: '', path: rest, rest: tail };
  const slash = rest.indexOf('/', 2);
  const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at + 1);
  const host = authority.slice(at + 1);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) throw fail("missing ']' in host");
    const after = host.slice(close + 1);
    if (after !== '' && !/^:[0-9]*$/.test(after)) throw fail(`invalid port ${JSON.stringify(after)} after host`);
  } else {
    const bad = /[ `{|}^\\]/.exec(host);
    if (bad) throw fail(`invalid character ${JSON.stringify(bad[0])} in host name`);
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !/^[0-9]*$/.test(host.slice(colon + 1))) throw fail(`invalid port ${JSON.stringify(host.slice(colon))} after host`);
  }
  return { scheme, userinfo, host, path, rest: tail };
}

/** Go's `net.SplitHostPort` succeeds: `host:port` or `[v6]:port` (either part may be empty). */
function isHostPort(host: string): boolean {
  if (host.startsWith('[')) return /^\[[^\]]*\]:[^:]*$/.test(host);
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon;
}
