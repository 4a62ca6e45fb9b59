/**
 * Reading one side's certificate, key and CA bundle from disk, checked well enough that every
 * problem (missing file, not PEM, key not matching the certificate) is one clear sentence at
 * start-up or on reload instead of a handshake failure later.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { CertUsage, TlsFiles } from '../config/tls-flags.js';

/** A certificate, key or CA file cannot be used; the message names the file and the reason. */
export class TlsConfigError extends Error {
  readonly code = 'ERR_TLS_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** The PEM contents of one side's files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** Subject CN and SHA-256 fingerprint of the certificate (for logs). */
  subject: string;
  fingerprint: string;
}

function readPem(path: string, flag: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`--${flag} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!data.includes('-----BEGIN ')) throw new TlsConfigError(`--${flag} ${path}: not a PEM file`);
  return data;
}

/** Flag names for messages: `cert-file` or `peer-cert-file` and so on. */
function flagNames(prefix: '' | 'peer-'): { cert: string; key: string; ca: string } {
  return { cert: `${prefix}cert-file`, key: `${prefix}key-file`, ca: `${prefix}trusted-ca-file` };
}

/** Object identifiers of the extended key usages checked here (RFC 5280, 4.2.1.12). */
const USAGE_OID: Record<CertUsage, string> = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' };
const ANY_USAGE_OID = '2.5.29.37.0';

/**
 * Refuses a certificate whose extended key usage leaves out what this side uses it for: otherwise
 * it loads fine and every handshake then fails ("unsuitable certificate purpose"). A certificate
 * without the extension may be used for anything (as Go and OpenSSL treat it).
 */
function checkUsages(x509: X509Certificate, files: TlsFiles, flag: string, side: 'client' | 'peer'): void {
  const listed = x509.keyUsage;
  if (listed === undefined || listed.includes(ANY_USAGE_OID)) return;
  const missing = files.usages.filter((u) => !listed.includes(USAGE_OID[u]));
  if (missing.length === 0) return;
  const why = missing.map((u) => (u === 'serverAuth'
    ? (side === 'peer' ? 'the peer listener serves it' : 'the client listener serves it')
    : 'members present it as their client certificate to members that ask for one (--peer-client-cert-auth)')).join(', and ');
  const fix = side === 'peer' ? 'a peer certificate (`deimosctl cert peer`: serverAuth and clientAuth)' : 'a server certificate (`deimosctl cert server`)';
  throw new TlsConfigError(`--${flag} ${files.certFile}: the certificate's extended key usage lacks ${missing.join(' and ')}, yet ${why}; use ${fix}`);
}

/** Reads and checks one side's files; throws {@link TlsConfigError}. */
export function loadTlsMaterial(files: TlsFiles, side: 'client' | 'peer'): TlsMaterial {
  const names = flagNames(side === 'peer' ? 'peer-' : '');
  const cert = readPem(files.certFile, names.cert);
  const key = readPem(files.keyFile, names.key);
  const ca = files.trustedCaFile === undefined ? undefined : readPem(files.trustedCaFile, names.ca);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError(`--${names.cert} ${files.certFile}: not a valid certificate (${(err as Error).message})`);
  }
  let keyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new TlsConfigError(`--${names.key} ${files.keyFile}: not a valid private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(keyObject)) {
    throw new TlsConfigError(`--${names.key} ${files.keyFile} does not match the certificate in --${names.cert} ${files.certFile}`);
  }
  if (ca !== undefined) {
    try {
      createSecureContext({ ca });
    } catch (err) {
      throw new TlsConfigError(`--${names.ca} ${files.trustedCaFile}: not a valid CA bundle (${(err as Error).message})`);
    }
  }
  checkUsages(x509, files, names.cert, side);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1] ?? '';
  return { cert, key, ...(ca !== undefined ? { ca } : {}), subject: cn, fingerprint: x509.fingerprint256 };
}
