import { TopicCommand } from '../../topic-command.js';

/** `deimosctl auth`: turning auth on and off. */
export default class Auth extends TopicCommand {
  static override summary = 'Turn auth on and off (etcd v2 auth): enable, disable.';
  static override examples = ['<%= config.bin %> auth enable', '<%= config.bin %> -u root:pw auth disable'];
}
