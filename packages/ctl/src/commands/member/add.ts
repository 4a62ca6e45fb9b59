import { Args } from '@oclif/core';
import { DeimosCommand } from '../../base-command.js';
import { MEMBERS_FAILURE } from '../../describe-error.js';
import { usageError } from '../../ctl-error.js';
import { formatMemberAdded, splitUrls } from '../../members.js';

/** `deimosctl member add <name> <peerURLs>`. */
export default class MemberAdd extends DeimosCommand<typeof MemberAdd> {
  static override summary = 'Add a member to the cluster and print how to start it (DEIMOS_* environment and a deimos command line).';
  static override failure = MEMBERS_FAILURE;
  static override examples = ['<%= config.bin %> member add node4 http://10.0.0.4:2380'];
  static override args = {
    name: Args.string({ description: 'name of the new member', required: true }),
    peerURLs: Args.string({ description: 'its peer URLs, comma-separated', required: true }),
  };

  async run(): Promise<void> {
    const { name, peerURLs } = this.args;
    if (name === undefined || peerURLs === undefined) throw usageError('member add command requires exactly two arguments');
    const client = this.client();
    const added = await client.addMember(splitUrls(peerURLs));
    const members = await client.members();
    this.write(formatMemberAdded(name, added.id, members, added.peerURLs));
  }
}
