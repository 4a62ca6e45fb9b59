/**
 * The PEM files the TLS flags name, read once at start: one set for the listeners and the member
 * connections (as etcd's proxy), and the one towards --bootstrap-config peer URLs.
 */
import { readFileSync } from 'node:fs';
import type { ProxyConfig } from './proxy-config.js';
import { ProxyStartError } from './proxy-start-error.js';

/** PEM material read from the TLS flags. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function readPem(file: string | undefined, flag: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ProxyStartError('ERR_PROXY_TLS', `--${flag} ${file}: ${(err as Error).message}`);
  }
}

/** The listener's and member connections' material, and the peer-URL one; throws {@link ProxyStartError}. */
export function readTls(config: ProxyConfig): { client: TlsMaterial; peer: TlsMaterial } {
  const t = config.tls;
  const client = { ca: readPem(t.trustedCaFile, 'trusted-ca-file'), cert: readPem(t.certFile, 'cert-file'), key: readPem(t.keyFile, 'key-file') };
  const peer = {
    ca: readPem(t.peerTrustedCaFile, 'peer-trusted-ca-file') ?? client.ca,
    ...(t.peerCertFile !== undefined ? { cert: readPem(t.peerCertFile, 'peer-cert-file'), key: readPem(t.peerKeyFile, 'peer-key-file') } : { cert: client.cert, key: client.key }),
  };
  return { client, peer };
}
