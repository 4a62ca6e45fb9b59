import { DeimosCommand } from '../../base-command.js';
import { certBaseFlags, issueLeafFromFlags, leafCertFlags } from '../../cert/cert-flags.js';

/** `deimosctl cert client`: a client certificate signed by the CA. */
export default class CertClient extends DeimosCommand<typeof CertClient> {
  static override summary = 'Create a client certificate (clientAuth) signed by the CA: client.pem and client-key.pem.';
  static override syncFirst = false;
  static override baseFlags = certBaseFlags;
  static override examples = [
    '<%= config.bin %> cert client',
    '<%= config.bin %> cert client --ip 10.0.0.1 --ip 127.0.0.1 --dns node1.example.com --dns localhost',
    '<%= config.bin %> cert client --name node1-client --out-dir ./tls --ca-cert ./tls/ca.pem --ca-key ./tls/ca-key.pem',
  ];
  static override flags = leafCertFlags;

  async run(): Promise<void> {
    const { certPath, keyPath } = issueLeafFromFlags('client', this.flags);
    this.write(`${certPath}\n${keyPath}\n`);
  }
}
