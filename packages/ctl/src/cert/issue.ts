/**
 * Certificates for Deimos TLS with node-forge: a self-signed CA, and server, peer and client
 * certificates signed by it (RSA-2048, SHA-256). Keys come from forge's default keygen, which uses
 * Node's native RSA when available.
 */
import forge from 'node-forge';
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';

const { pki, md } = forge;

/** What a leaf certificate is for: its extended key usage. */
export type LeafKind = 'server' | 'peer' | 'client';

/** A certificate and its private key, PEM-encoded. */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** Options of a CA. */
export interface CaOptions {
  commonName: string;
  days: number;
  now?: Date;
}

/** Options of a leaf certificate. */
export interface LeafOptions {
  kind: LeafKind;
  commonName: string;
  ca: PemPair;
  ips: string[];
  dns: string[];
  days: number;
  now?: Date;
}

const EXT_KEY_USAGE: Record<LeafKind, { serverAuth?: true; clientAuth?: true }> = {
  server: { serverAuth: true },
  peer: { serverAuth: true, clientAuth: true },
  client: { clientAuth: true },
};

/** A self-signed CA: CA:true (critical), keyCertSign + cRLSign, subject key identifier. */
export function generateCa(opts: CaOptions): PemPair {
  const keys = pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = baseCertificate(keys.publicKey, opts.days, opts.now);
  const subject = [{ name: 'commonName', value: opts.commonName }, { name: 'organizationName', value: 'Deimos' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, md.sha256.create());
  return { certPem: pki.certificateToPem(cert), keyPem: pki.privateKeyToPem(keys.privateKey) };
}

/** A server, peer or client certificate signed by `ca`, with the given IP and DNS SANs. */
export function issueLeaf(opts: LeafOptions): PemPair {
  const caCert = pki.certificateFromPem(opts.ca.certPem);
  const caKey = pki.privateKeyFromPem(opts.ca.keyPem);
  const keys = pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = baseCertificate(keys.publicKey, opts.days, opts.now);
  cert.setSubject([{ name: 'commonName', value: opts.commonName }, { name: 'organizationName', value: 'Deimos' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...opts.dns.map((value) => ({ type: 2, value })),
    ...opts.ips.map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', ...EXT_KEY_USAGE[opts.kind] },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyIdentifier(caCert) },
  ]);
  cert.sign(caKey, md.sha256.create());
  return { certPem: pki.certificateToPem(cert), keyPem: pki.privateKeyToPem(keys.privateKey) };
}

/** Rejects SAN values that are not IP addresses (`--ip`). */
export function invalidIps(ips: readonly string[]): string[] {
  return ips.filter((ip) => isIP(ip) === 0);
}

function baseCertificate(publicKey: forge.pki.PublicKey, days: number, now = new Date()): forge.pki.Certificate {
  const cert = pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  // A minute of slack for clocks slightly behind the one that issued the certificate.
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
  return cert;
}

/** 16 random bytes, high bit clear so that the DER integer stays positive. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** The CA's own subject key identifier when it has one (another tool may have computed it differently). */
function caKeyIdentifier(caCert: forge.pki.Certificate): string {
  const ext = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  if (ext?.subjectKeyIdentifier) return forge.util.hexToBytes(ext.subjectKeyIdentifier);
  return caCert.generateSubjectKeyIdentifier().getBytes();
}
