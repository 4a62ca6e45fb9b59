import { TopicCommand } from '../../topic-command.js';

/** `deimosctl role`: the roles topic. */
export default class Role extends TopicCommand {
  static override summary = 'Manage roles and their key permissions (etcd v2 auth): add, get, list, remove, grant, revoke.';
  static override examples = ['<%= config.bin %> -u root:pw role add app', "<%= config.bin %> -u root:pw role grant app --path '/app/*' --readwrite"];
}
