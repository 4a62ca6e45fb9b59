/**
 * What every TLS endpoint of a member accepts: TLS 1.2 or newer, forward-secret AEAD cipher suites
 * only, and a bounded handshake. Shared by the client and peer listeners and outgoing peer
 * connections so that the two ends of a member-to-member link always agree.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** The oldest protocol version accepted. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * TLS 1.3 suites, then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305: no CBC, RSA key
 * exchange, SHA-1 MACs, 3DES or RC4.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** A connection that has not finished its handshake by then is closed (slowloris bound). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The subject CN of a peer certificate, or '' when it has none. Of several CN attributes the last
 * wins, as in Go's `pkix.Name.CommonName` (what etcd compares with --peer-cert-allowed-cn).
 */
export function certificateCn(cert: PeerCertificate | undefined): string {
  const cn = cert?.subject?.CN;
  return Array.isArray(cn) ? (cn[cn.length - 1] ?? '') : (cn ?? '');
}

/**
 * A `checkServerIdentity` for outgoing connections: the usual host name check, then the subject
 * CN must be `allowedCn` (as etcd applies --peer-cert-allowed-cn in both directions).
 */
export function identityCheck(allowedCn: string | undefined): ((host: string, cert: PeerCertificate) => Error | undefined) | undefined {
  if (allowedCn === undefined) return undefined;
  return (host, cert) => {
    const err = checkServerIdentity(host, cert);
    if (err !== undefined) return err;
    const cn = certificateCn(cert);
    return cn === allowedCn ? undefined : new Error(`peer certificate CN "${cn}" is not the allowed "${allowedCn}"`);
  };
}
