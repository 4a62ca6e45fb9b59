/**
 * The TLS part of the server configuration: which certificate files the client and peer sides use,
 * checked against the URL schemes so that a mismatch is a start-up error instead of a member that
 * silently speaks the wrong protocol. The files themselves are read at start (see ../tls/).
 */
import { resolve } from 'node:path';
import { FlagError, type ParsedFlags } from './flag-parser.js';

/** Certificate files of one side (client API or peer traffic), as absolute paths. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA bundle that the other side's certificates must chain to. */
  trustedCaFile?: string;
  /** Require and verify the other side's certificate on incoming connections. */
  clientCertAuth: boolean;
  /** Only certificates with this subject CN are accepted (peer side only). */
  allowedCn?: string;
  /**
   * What the certificate is used for, checked against its extended key usage at start: serverAuth
   * when a listener serves it; clientAuth when other members ask for it as a client certificate.
   */
  usages: CertUsage[];
}

/** An extended key usage a certificate may need. */
export type CertUsage = 'serverAuth' | 'clientAuth';

/** The flag names of one side. */
interface SideFlags {
  cert: string;
  key: string;
  ca: string;
  /** The original Deimos / etcd 2 spelling: the CA, and client certificates required. */
  caRequiring: string;
  auth: string;
  allowedCn?: string;
}

const CLIENT_SIDE: SideFlags = { cert: 'cert-file', key: 'key-file', ca: 'trusted-ca-file', caRequiring: 'ca-file', auth: 'client-cert-auth' };
const PEER_SIDE: SideFlags = { cert: 'peer-cert-file', key: 'peer-key-file', ca: 'peer-trusted-ca-file', caRequiring: 'peer-ca-file', auth: 'peer-client-cert-auth', allowedCn: 'peer-cert-allowed-cn' };

function str(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values.get(name);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isHttps(url: string): boolean {
  return url.startsWith('https://');
}

/**
 * Reads one side's TLS flags. `listenUrls` decide whether the side serves TLS; `otherHttpsUrls`
 * are https URLs this member connects to (peers), which also need the side's certificate.
 */
function sideFiles(flags: ParsedFlags, cwd: string, side: SideFlags, listenFlag: string, listenUrls: readonly string[], otherHttpsUrls: readonly string[]): TlsFiles | undefined {
  const cert = str(flags, side.cert);
  const key = str(flags, side.key);
  const trusted = str(flags, side.ca);
  const requiring = str(flags, side.caRequiring);
  if (trusted !== undefined && requiring !== undefined && resolve(cwd, trusted) !== resolve(cwd, requiring)) {
    throw new FlagError(`--${side.ca} and --${side.caRequiring} name different files; give one`);
  }
  const ca = trusted ?? requiring;
  // A CA means client certificates signed by it are required, as etcd 3.4 has it (its TLS server
  // requires and verifies them when a trusted CA file is given, whatever --client-cert-auth says)
  // and as --ca-file meant in the original Deimos and etcd 2. An etcd command line with
  // --trusted-ca-file alone was served here to any client, its peer port too.
  const auth = flags.values.get(side.auth) === true || ca !== undefined;
  const allowedCn = side.allowedCn === undefined ? undefined : str(flags, side.allowedCn);
  const httpsListen = listenUrls.find(isHttps);
  const httpsAny = httpsListen ?? otherHttpsUrls[0];
  if (cert === undefined && key === undefined) {
    if (httpsAny !== undefined) throw new FlagError(`${httpsAny} is an https URL but --${side.cert} and --${side.key} are not set`);
    const stray = requiring !== undefined ? side.caRequiring : trusted !== undefined ? side.ca : auth ? side.auth : allowedCn !== undefined ? side.allowedCn : undefined;
    if (stray !== undefined) throw new FlagError(`--${stray} needs TLS: set --${side.cert} and --${side.key} and use https:// in --${listenFlag}`);
    return undefined;
  }
  if (cert === undefined) throw new FlagError(`--${side.key} is set but --${side.cert} is not`);
  if (key === undefined) throw new FlagError(`--${side.cert} is set but --${side.key} is not`);
  if (httpsAny === undefined) {
    throw new FlagError(`--${side.cert} is set but every --${listenFlag} URL is http://; use https:// URLs to serve TLS`);
  }
  if (auth && ca === undefined) throw new FlagError(`--${side.auth} needs --${side.ca} (the CA that signs accepted certificates)`);
  if (allowedCn !== undefined && !auth) throw new FlagError(`--${side.allowedCn} needs --${side.auth} (only verified certificates have a trusted CN)`);
  return {
    certFile: resolve(cwd, cert),
    keyFile: resolve(cwd, key),
    ...(ca !== undefined ? { trustedCaFile: resolve(cwd, ca) } : {}),
    clientCertAuth: auth,
    ...(allowedCn !== undefined ? { allowedCn } : {}),
    usages: usages({ serves: httpsListen !== undefined, presentsToPeers: side === PEER_SIDE && auth }),
  };
}

/**
 * A peer certificate is presented as a client certificate to the members that ask for one: those
 * with --peer-client-cert-auth, taken to be set alike across the cluster, as this member's is.
 */
function usages(use: { serves: boolean; presentsToPeers: boolean }): CertUsage[] {
  return [...(use.serves ? ['serverAuth' as const] : []), ...(use.presentsToPeers ? ['clientAuth' as const] : [])];
}

/** The client listener's TLS files, or undefined for plain HTTP; throws {@link FlagError} on a mismatch. */
export function clientTlsFiles(flags: ParsedFlags, cwd: string, listenClientUrls: readonly string[]): TlsFiles | undefined {
  return sideFiles(flags, cwd, CLIENT_SIDE, 'listen-client-urls', listenClientUrls, []);
}

/**
 * The peer side's TLS files, or undefined for plain HTTP. https peer URLs anywhere (listen,
 * advertise, bootstrap config) need a peer certificate: it is this member's client certificate
 * towards the others too.
 */
export function peerTlsFiles(flags: ParsedFlags, cwd: string, listenPeerUrls: readonly string[], otherPeerUrls: readonly string[]): TlsFiles | undefined {
  return sideFiles(flags, cwd, PEER_SIDE, 'listen-peer-urls', listenPeerUrls, otherPeerUrls.filter(isHttps));
}
