import { Args } from '@oclif/core';
import { DeimosCommand } from '../../base-command.js';
import { MEMBERS_FAILURE } from '../../describe-error.js';
import { usageError } from '../../ctl-error.js';

/** `deimosctl member remove <id>`. */
export default class MemberRemove extends DeimosCommand<typeof MemberRemove> {
  static override summary = 'Remove a member from the cluster.';
  static override failure = MEMBERS_FAILURE;
  static override examples = ['<%= config.bin %> member remove 8e9e05c52164694d'];
  static override args = { id: Args.string({ description: 'the member ID (hex, as `member list` shows it)', required: true }) };

  async run(): Promise<void> {
    const id = this.args.id;
    if (id === undefined) throw usageError('member remove command requires exactly one argument');
    const client = this.client();
    const members = await client.members();
    for (const m of members) {
      if (m.name === id && m.id !== id) {
        process.stderr.write(`Found a member named ${m.name}; if this is correct, please use its ID, eg:\n\t${this.config.bin} member remove ${m.id}\n\n`);
      }
    }
    if (!members.some((m) => m.id === id)) {
      process.stderr.write(`Couldn't find a member in the cluster with an ID of ${id}.\n`);
      this.exit(1);
    }
    await client.removeMember(id);
    this.write(`Removed member ${id} from cluster\n`);
  }
}
