import { Args } from '@oclif/core';
import { DeimosCommand } from '../../base-command.js';
import { MEMBERS_FAILURE } from '../../describe-error.js';
import { usageError } from '../../ctl-error.js';
import { splitUrls } from '../../members.js';

/** `deimosctl member update <id> <peerURLs>`. */
export default class MemberUpdate extends DeimosCommand<typeof MemberUpdate> {
  static override summary = 'Update the peer URLs of a member.';
  static override failure = MEMBERS_FAILURE;
  static override examples = ['<%= config.bin %> member update 8e9e05c52164694d http://10.0.0.5:2380'];
  static override args = {
    id: Args.string({ description: 'the member ID', required: true }),
    peerURLs: Args.string({ description: 'its new peer URLs, comma-separated', required: true }),
  };

  async run(): Promise<void> {
    const { id, peerURLs } = this.args;
    if (id === undefined || peerURLs === undefined) throw usageError('member update command requires exactly two arguments');
    const client = this.client();
    const members = await client.members();
    if (!members.some((m) => m.id === id)) {
      process.stderr.write(`Couldn't find a member in the cluster with an ID of ${id}.\n`);
      this.exit(1);
    }
    await client.updateMember(id, splitUrls(peerURLs));
    this.write(`Updated member with ID ${id} in cluster\n`);
  }
}
