/**
 * Certificates for TLS end-to-end tests, made by running the real `deimosctl cert` binary into a
 * temporary directory: a CA, and leaf certificates (server, peer, client) signed by it or by a
 * second, unrelated CA.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { TestTlsCredentials } from './http.js';

/** Path of the deimosctl entry point in this checkout. */
const CTL_BIN = fileURLToPath(new URL('../../../packages/ctl/bin/run.js', import.meta.url));

/** A certificate and its key, as file paths. */
export interface CertPair {
  cert: string;
  key: string;
}

function deimosctl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CTL_BIN, ...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`deimosctl ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

/** A directory of test certificates; `destroy()` removes it. */
export class TestCerts {
  private constructor(readonly dir: string) {}

  /** Creates the directory with a CA (`ca.pem`) in it. */
  static async create(): Promise<TestCerts> {
    const certs = new TestCerts(mkdtempSync(join(tmpdir(), 'deimos-tls-')));
    await certs.ca('ca');
    return certs;
  }

  /** A further CA in its own subdirectory `name/` (certificates it signs are strangers to `ca.pem`). */
  async ca(name: string): Promise<string> {
    const dir = name === 'ca' ? this.dir : join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    await deimosctl(['cert', 'ca', '--out-dir', dir, '--cn', `${name} test CA`]);
    return join(dir, 'ca.pem');
  }

  /**
   * Issues `deimosctl cert <kind>` as `<name>.pem` / `<name>-key.pem`, signed by the CA `caName`
   * (default the main one), for 127.0.0.1 and localhost, with subject CN `cn` (default the name).
   */
  async issue(kind: 'server' | 'peer' | 'client', name: string, opts: { cn?: string; caName?: string; force?: boolean; ip?: string; dns?: string } = {}): Promise<CertPair> {
    const caDir = opts.caName === undefined || opts.caName === 'ca' ? this.dir : join(this.dir, opts.caName);
    await deimosctl(['cert', kind, '--out-dir', this.dir, '--name', name, '--ca-cert', join(caDir, 'ca.pem'), '--ca-key', join(caDir, 'ca-key.pem'),
      ...(opts.cn !== undefined ? ['--cn', opts.cn] : []), ...(opts.force ? ['--force'] : []),
      ...(opts.ip !== undefined ? ['--ip', opts.ip] : []), ...(opts.dns !== undefined ? ['--dns', opts.dns] : [])]);
    return { cert: this.path(`${name}.pem`), key: this.path(`${name}-key.pem`) };
  }

  /** Absolute path of a file in the directory. */
  path(file: string): string {
    return join(this.dir, file);
  }

  /** Contents of a file in the directory. */
  read(file: string): Buffer {
    return readFileSync(this.path(file));
  }

  /** Credentials for the test harness: trust `ca.pem`, present `pair` if given. */
  credentials(pair?: CertPair): TestTlsCredentials {
    return { ca: this.read('ca.pem'), ...(pair ? { cert: readFileSync(pair.cert), key: readFileSync(pair.key) } : {}) };
  }

  /** Removes the directory. */
  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The SHA-256 fingerprint of a certificate file, as node:tls spells it. */
export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** The SHA-256 fingerprint of the certificate a TLS server at `url` presents to `credentials`. */
export function presentedFingerprint(url: string, credentials: TestTlsCredentials): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), ...credentials }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error(`TLS connect to ${url} timed out`)));
    socket.on('error', reject);
  });
}
