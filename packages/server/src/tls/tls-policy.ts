/**
 * What every TLS endpoint of a member accepts (the listener policy of @deimos/net, which
 * deimos-proxy shares), and the peer CN rule. Shared by the client and peer listeners and outgoing
 * peer connections so that the two ends of a member-to-member link always agree.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

export { TLS_CIPHERS, TLS_HANDSHAKE_TIMEOUT_MS, TLS_MIN_VERSION } from '@deimos/net';

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
