/**
 * Opens outgoing peer HTTP requests: plain or TLS by the URL's scheme, never pooled (every stream
 * and snapshot transfer owns its socket, so closing one destroys exactly that socket).
 */
import http, { type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { PeerCertificate, SecureContext } from 'node:tls';
import { TransportError } from './transport-errors.js';

/** TLS settings for https peer URLs (client side). */
export interface PeerTlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Defaults to true; false only for tests with self-signed certificates. */
  rejectUnauthorized?: boolean;
  /** A prepared context (certificate, key, CA, protocol policy); wins over ca/cert/key. */
  secureContext?: SecureContext;
  /** Extra check of the peer's certificate (e.g. an allowed CN); undefined = the host name check. */
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** TLS settings, or a function returning the current ones (certificates reload at run time). */
export type PeerTlsSource = PeerTlsOptions | (() => PeerTlsOptions | undefined);

/** The current settings of a {@link PeerTlsSource}. */
export function currentTls(source: PeerTlsSource | undefined): PeerTlsOptions | undefined {
  return typeof source === 'function' ? source() : source;
}

/** Resolves `path` against the base peer URL (whose own path, if any, is ignored). */
export function peerEndpoint(peerUrl: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(path, peerUrl);
  } catch {
    // A URL Go's parser takes and WHATWG's does not (a port past 65535, an IPv4 address out of
    // range): etcd stores such a member and finds it unreachable; so does this transport.
    throw new TransportError('ERR_PEER_URL', `cannot dial peer URL ${peerUrl}`);
  }
  // node:http would dial port 80 for an explicit port 0, which names no peer.
  if (url.port === '0') throw new TransportError('ERR_PEER_URL', `cannot dial peer URL ${peerUrl}: port 0`);
  return url;
}

/** Starts a request (a POST unless told) to `url` with `headers`; the caller writes the body and listens for events. */
export function openPeerRequest(url: URL, headers: OutgoingHttpHeaders, tls: PeerTlsSource | undefined, method = 'POST'): ClientRequest {
  const options = { method, agent: false as const, headers };
  if (url.protocol === 'https:') return https.request(url, { ...options, ...currentTls(tls) });
  if (url.protocol !== 'http:') throw new TypeError(`unsupported peer URL scheme ${url.protocol}`);
  return http.request(url, options);
}

/** Reads at most `limitBytes` of a response body as text (for error messages), then drops the rest. */
export function readSmallBody(res: http.IncomingMessage, limitBytes: number, done: (text: string) => void): void {
  const parts: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(parts).toString('utf8'));
  };
  res.on('data', (chunk: Buffer) => {
    if (size < limitBytes) parts.push(chunk.subarray(0, limitBytes - size));
    size += chunk.length;
  });
  res.on('end', finish);
  res.on('close', finish);
  res.on('error', finish);
}

/** The `message` of a JSON error body, or the text itself. */
export function errorMessageOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
      return (parsed as { message: string }).message;
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return body.trim();
}
