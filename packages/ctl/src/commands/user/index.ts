import { TopicCommand } from '../../topic-command.js';

/** `deimosctl user`: the users topic. */
export default class User extends TopicCommand {
  static override summary = 'user add, grant and revoke subcommands (etcd v2 auth).';
  static override examples = ['<%= config.bin %> user add root', '<%= config.bin %> -u root:pw user grant alice --roles app'];
}
