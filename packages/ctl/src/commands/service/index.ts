import { TopicCommand } from '../../topic-command.js';

/** `deimosctl service`: the service registry topic. */
export default class Service extends TopicCommand {
  static override summary = 'Register service instances with a TTL heartbeat, list them, and watch the list.';
  static override examples = [
    '<%= config.bin %> service register web web1 http://10.0.0.1:8080',
    '<%= config.bin %> service list web',
    '<%= config.bin %> service watch web',
  ];
}
