/** Flags shared by the `cert` commands and the leaf-certificate run. */
import { Flags } from '@oclif/core';
import { DeimosCommand } from '../base-command.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CtlError, usageError } from '../ctl-error.js';
import { invalidIps, issueLeaf, type LeafKind } from './issue.js';
import { assertWritable, writePair } from './write-pair.js';

/**
 * The global flags of the `cert` commands: only --[no-]color. They talk to no cluster, so the
 * connection flags (--endpoints, --ca-file, ...) would be silently ignored: they are refused instead.
 */
// Typed as the full set only to satisfy the static side of DeimosCommand: the cert commands read
// no flag of it but --color (the base's init reads --sync only when syncFirst, which they turn off).
export const certBaseFlags = { color: DeimosCommand.baseFlags.color } as unknown as typeof DeimosCommand.baseFlags;

/** Flags of every `cert` command. */
export const commonCertFlags = {
  'out-dir': Flags.string({ description: 'directory to write the files to', default: '.' }),
  days: Flags.integer({ description: 'validity in days', default: 365, min: 1 }),
  name: Flags.string({ description: 'base name of the files (<name>.pem, <name>-key.pem)' }),
  force: Flags.boolean({ description: 'overwrite existing files' }),
};

/** Flags of `cert server|peer|client`. */
export const leafCertFlags = {
  ...commonCertFlags,
  'ca-cert': Flags.string({ description: 'CA certificate (default <out-dir>/ca.pem)' }),
  'ca-key': Flags.string({ description: 'CA private key (default <out-dir>/ca-key.pem)' }),
  ip: Flags.string({ description: 'IP address SAN (repeatable)', multiple: true, default: ['127.0.0.1'] }),
  dns: Flags.string({ description: 'DNS name SAN (repeatable)', multiple: true, default: ['localhost'] }),
  cn: Flags.string({ description: 'subject common name (default: the file base name)' }),
};

/** Parsed leaf flags. */
export interface LeafFlags {
  'out-dir': string;
  days: number;
  name?: string;
  force: boolean;
  'ca-cert'?: string;
  'ca-key'?: string;
  ip: string[];
  dns: string[];
  cn?: string;
}

/** Issues a leaf certificate from the flags and writes it; returns the written paths. */
export function issueLeafFromFlags(kind: LeafKind, flags: LeafFlags): { certPath: string; keyPath: string } {
  const dir = flags['out-dir'];
  const base = flags.name ?? kind;
  const bad = invalidIps(flags.ip);
  if (bad.length > 0) throw usageError(`not an IP address: ${bad.join(', ')}`);
  assertWritable(dir, base, flags.force);
  const ca = {
    certPem: readCaFile(flags['ca-cert'] ?? join(dir, 'ca.pem'), 'CA certificate'),
    keyPem: readCaFile(flags['ca-key'] ?? join(dir, 'ca-key.pem'), 'CA key'),
  };
  const pair = issueLeaf({ kind, commonName: flags.cn ?? base, ca, ips: flags.ip, dns: flags.dns, days: flags.days });
  return writePair(dir, base, pair, flags.force);
}

function readCaFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CtlError('ENOCA', `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (run \`deimosctl cert ca\` first, or pass --ca-cert/--ca-key)`);
  }
}
