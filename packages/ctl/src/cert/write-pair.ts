/** Writes a certificate and its key next to each other, never clobbering unless forced. */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CtlError } from '../ctl-error.js';
import type { PemPair } from './issue.js';

/** The paths of `<base>.pem` and `<base>-key.pem` in `dir`. */
export function pairPaths(dir: string, base: string): { certPath: string; keyPath: string } {
  return { certPath: join(dir, `${base}.pem`), keyPath: join(dir, `${base}-key.pem`) };
}

/** Fails with a clear message when either file exists and `force` is off (checked before any key is generated). */
export function assertWritable(dir: string, base: string, force: boolean): void {
  if (force) return;
  for (const path of Object.values(pairPaths(dir, base))) {
    if (existsSync(path)) throw new CtlError('EEXIST', `${path} already exists (use --force to overwrite)`);
  }
}

/** Writes the pair: the certificate 0644, the key 0600. */
export function writePair(dir: string, base: string, pair: PemPair, force: boolean): { certPath: string; keyPath: string } {
  mkdirSync(dir, { recursive: true });
  const paths = pairPaths(dir, base);
  const flag = force ? 'w' : 'wx';
  writeFileSync(paths.keyPath, pair.keyPem, { mode: 0o600, flag });
  chmodSync(paths.keyPath, 0o600); // an overwritten file keeps its old mode otherwise
  writeFileSync(paths.certPath, pair.certPem, { mode: 0o644, flag });
  return paths;
}
