import { TopicCommand } from '../../topic-command.js';

/** `deimosctl user`: the users topic. */
export default class User extends TopicCommand {
  static override summary = 'Manage users and their roles (etcd v2 auth): add, get, list, remove, grant, revoke, passwd.';
  static override examples = ['<%= config.bin %> user add root', '<%= config.bin %> -u root:pw user grant alice --roles app'];
}
