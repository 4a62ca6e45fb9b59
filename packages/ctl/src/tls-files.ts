/**
 * The client's TLS material from `--ca-file`, `--cert-file` and `--key-file`, checked before any
 * request as etcdctl checks it (its transport set-up): a certificate without its key (or the
 * reverse) used to send no certificate at all, and a key of another certificate failed later with
 * OpenSSL's text and exit 4. Each mistake is one bare line in etcdctl's words and exit 1.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsOptions } from '@deimos/client';
import { CtlError } from './ctl-error.js';

/** The three flags' values (paths), as given. */
export interface TlsFileFlags {
  'ca-file'?: string | undefined;
  'cert-file'?: string | undefined;
  'key-file'?: string | undefined;
}

function tlsError(message: string): CtlError {
  return new CtlError('ETLS', message, undefined, { bare: true });
}

/** Go's `open <path>: <reason>` for a file that cannot be read. */
function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw tlsError(`open ${path}: ${reason}`);
  }
}

/** Reads and checks the files; undefined when no TLS flag is given. Throws a bare {@link CtlError}. */
export function readTlsFiles(flags: TlsFileFlags): TlsOptions | undefined {
  const caPath = flags['ca-file'];
  const certPath = flags['cert-file'];
  const keyPath = flags['key-file'];
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw tlsError(`KeyFile and CertFile must both be present[key: ${keyPath ?? ''}, cert: ${certPath ?? ''}]`);
  }
  const ca = caPath !== undefined ? readPem(caPath) : undefined;
  if (certPath === undefined || keyPath === undefined) return ca !== undefined ? { ca } : undefined;
  const cert = readPem(certPath);
  const key = readPem(keyPath);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw tlsError('tls: failed to find any PEM data in certificate input');
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw tlsError('tls: failed to find any PEM data in key input');
  }
  if (!x509.checkPrivateKey(privateKey)) throw tlsError('tls: private key does not match public key');
  return { ...(ca !== undefined ? { ca } : {}), cert, key };
}
