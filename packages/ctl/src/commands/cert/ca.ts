import { Flags } from '@oclif/core';
import { DeimosCommand } from '../../base-command.js';
import { certBaseFlags, commonCertFlags } from '../../cert/cert-flags.js';
import { generateCa } from '../../cert/issue.js';
import { assertWritable, writePair } from '../../cert/write-pair.js';

/** `deimosctl cert ca`: a self-signed CA (ca.pem, ca-key.pem). */
export default class CertCa extends DeimosCommand<typeof CertCa> {
  static override summary = 'Create a self-signed certificate authority (ca.pem and ca-key.pem).';
  static override syncFirst = false;
  static override baseFlags = certBaseFlags;
  static override examples = [
    '<%= config.bin %> cert ca',
    '<%= config.bin %> cert ca --out-dir ./tls --days 3650',
  ];
  static override flags = {
    ...commonCertFlags,
    cn: Flags.string({ description: 'subject common name', default: 'Deimos CA' }),
  };

  async run(): Promise<void> {
    const dir = this.flags['out-dir'];
    const base = this.flags.name ?? 'ca';
    assertWritable(dir, base, this.flags.force);
    const { certPath, keyPath } = writePair(dir, base, generateCa({ commonName: this.flags.cn, days: this.flags.days }), this.flags.force);
    this.write(`${certPath}\n${keyPath}\n`);
  }
}
