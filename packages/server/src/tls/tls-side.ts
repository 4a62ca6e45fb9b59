/**
 * One side's live TLS settings (client API or peer traffic): the loaded material, the options its
 * listeners and outgoing connections are built from, and reloading from disk (SIGHUP). A reload
 * that fails keeps the old material, so a half-written file never takes a member down.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import type { TlsFiles } from '../config/tls-flags.js';
import type { PeerTlsOptions } from '../transport/index.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';
import { identityCheck, TLS_CIPHERS, TLS_HANDSHAKE_TIMEOUT_MS, TLS_MIN_VERSION } from './tls-policy.js';

/** The TLS settings of one side; see the module comment. */
export class TlsSide {
  private current: TlsMaterial;
  private outgoing: PeerTlsOptions;
  private readonly reloadListeners: Array<(options: SecureContextOptions) => void> = [];

  /** Loads the files; throws TlsConfigError when they are unusable. */
  constructor(readonly files: TlsFiles, readonly side: 'client' | 'peer') {
    this.current = loadTlsMaterial(files, side);
    this.outgoing = this.buildOutgoing();
  }

  /** Subject CN and fingerprint of the certificate in use. */
  get description(): { subject: string; fingerprint: string } {
    return { subject: this.current.subject, fingerprint: this.current.fingerprint };
  }

  /** The certificate material as node:tls context options. */
  contextOptions(): SecureContextOptions {
    const m = this.current;
    return { cert: m.cert, key: m.key, ...(m.ca !== undefined ? { ca: m.ca } : {}), minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true };
  }

  /** Options of an https listener for this side (client-certificate checking included). */
  serverOptions(): TlsOptions {
    return {
      ...this.contextOptions(),
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      requestCert: this.files.clientCertAuth,
      rejectUnauthorized: this.files.clientCertAuth,
    };
  }

  /** Options of outgoing connections (peer side): this side's certificate as client certificate. */
  clientOptions(): PeerTlsOptions {
    return this.outgoing;
  }

  /** Called with the new context options after every successful reload. */
  onReload(fn: (options: SecureContextOptions) => void): void {
    this.reloadListeners.push(fn);
  }

  /** Re-reads the files; on success applies them everywhere, otherwise throws and keeps the old ones. */
  reload(): void {
    const next = loadTlsMaterial(this.files, this.side);
    this.current = next;
    this.outgoing = this.buildOutgoing();
    const options = this.contextOptions();
    for (const fn of this.reloadListeners) fn(options);
  }

  private buildOutgoing(): PeerTlsOptions {
    const secureContext: SecureContext = createSecureContext(this.contextOptions());
    const check = identityCheck(this.files.allowedCn);
    return { secureContext, ...(check !== undefined ? { checkServerIdentity: check } : {}) };
  }
}
