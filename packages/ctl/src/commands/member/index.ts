import { TopicCommand } from '../../topic-command.js';

/** `deimosctl member`: the members topic. */
export default class Member extends TopicCommand {
  static override summary = 'Manage the members of the cluster (list, add, remove, update).';
  static override examples = ['<%= config.bin %> member list', '<%= config.bin %> member add node4 http://10.0.0.4:2380'];
}
