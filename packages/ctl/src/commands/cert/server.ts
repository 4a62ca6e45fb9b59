import { DeimosCommand } from '../../base-command.js';
import { certBaseFlags, issueLeafFromFlags, leafCertFlags } from '../../cert/cert-flags.js';

/** `deimosctl cert server`: a server certificate signed by the CA. */
export default class CertServer extends DeimosCommand<typeof CertServer> {
  static override summary = 'Create a server certificate (serverAuth) signed by the CA: server.pem and server-key.pem.';
  static override syncFirst = false;
  static override baseFlags = certBaseFlags;
  static override examples = [
    '<%= config.bin %> cert server',
    '<%= config.bin %> cert server --ip 10.0.0.1 --ip 127.0.0.1 --dns node1.example.com --dns localhost',
    '<%= config.bin %> cert server --name node1-server --out-dir ./tls --ca-cert ./tls/ca.pem --ca-key ./tls/ca-key.pem',
  ];
  static override flags = leafCertFlags;

  async run(): Promise<void> {
    const { certPath, keyPath } = issueLeafFromFlags('server', this.flags);
    this.write(`${certPath}\n${keyPath}\n`);
  }
}
