import { Args, Flags } from '@oclif/core';
import { AuthCommand, authUsage } from '../../auth-command.js';

/** `deimosctl user grant <user> --roles <role>...`. */
export default class UserGrant extends AuthCommand<typeof UserGrant> {
  static override summary = 'Grant roles to an etcd user.';
  static override strict = false;
  static override args = { user: Args.string({ description: 'user name', required: true }) };
  static override flags = {
    // One role per --roles (repeat the flag), as etcdctl: a comma is part of the name.
    roles: Flags.string({ multiple: true, multipleNonGreedy: true, description: 'List of roles to grant or revoke (repeat for several)' }),
  };

  async run(): Promise<void> {
    const roles = this.flags.roles ?? [];
    if (roles.length === 0) throw authUsage('No roles specified; please use `--roles`');
    const name = this.oneName('Please provide a username');
    await this.client().grantUserRoles(name, roles);
    this.write(`User ${name} updated\n`);
  }
}
