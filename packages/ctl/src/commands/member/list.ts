import { DeimosCommand } from '../../base-command.js';
import { MEMBERS_FAILURE } from '../../describe-error.js';
import { formatMemberLine } from '../../members.js';

/** `deimosctl member list`. */
export default class MemberList extends DeimosCommand<typeof MemberList> {
  static override summary = 'List the members of the cluster.';
  static override failure = MEMBERS_FAILURE;
  static override examples = ['<%= config.bin %> member list', '<%= config.bin %> member list --endpoints http://10.0.0.1:4001'];

  async run(): Promise<void> {
    const client = this.client();
    const [members, leader] = await Promise.all([client.members(), client.leader()]);
    for (const m of members) this.write(formatMemberLine(m, leader?.id));
  }
}
