import { TopicCommand } from '../../topic-command.js';

/** `deimosctl role`: the roles topic. */
export default class Role extends TopicCommand {
  static override summary = 'role add, grant and revoke subcommands (etcd v2 auth).';
  static override examples = ['<%= config.bin %> -u root:pw role add app', "<%= config.bin %> -u root:pw role grant app --path '/app/*' --readwrite"];
}
