import { TopicCommand } from '../../topic-command.js';

/** `deimosctl cert`: the certificates topic. */
export default class Cert extends TopicCommand {
  static override summary = 'Create TLS certificates: a CA, then server, peer and client certificates signed by it.';
  static override examples = [
    '<%= config.bin %> cert ca --out-dir ./tls',
    '<%= config.bin %> cert server --out-dir ./tls --ip 10.0.0.1 --dns node1.example.com',
    '<%= config.bin %> cert client --out-dir ./tls',
  ];
}
