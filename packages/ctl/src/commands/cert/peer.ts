import { DeimosCommand } from '../../base-command.js';
import { certBaseFlags, issueLeafFromFlags, leafCertFlags } from '../../cert/cert-flags.js';

/** `deimosctl cert peer`: a peer certificate signed by the CA. */
export default class CertPeer extends DeimosCommand<typeof CertPeer> {
  static override summary = 'Create a peer certificate (serverAuth and clientAuth) signed by the CA: peer.pem and peer-key.pem.';
  static override syncFirst = false;
  static override baseFlags = certBaseFlags;
  static override examples = [
    '<%= config.bin %> cert peer',
    '<%= config.bin %> cert peer --ip 10.0.0.1 --ip 127.0.0.1 --dns node1.example.com --dns localhost',
    '<%= config.bin %> cert peer --name node1-peer --out-dir ./tls --ca-cert ./tls/ca.pem --ca-key ./tls/ca-key.pem',
  ];
  static override flags = leafCertFlags;

  async run(): Promise<void> {
    const { certPath, keyPath } = issueLeafFromFlags('peer', this.flags);
    this.write(`${certPath}\n${keyPath}\n`);
  }
}
