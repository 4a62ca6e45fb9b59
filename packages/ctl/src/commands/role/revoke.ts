import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';
import { roleKvChange, roleKvFlags } from '../../role-kv-change.js';

/** `deimosctl role revoke <role> --path <path> --read|--write|--readwrite`. */
export default class RoleRevoke extends AuthCommand<typeof RoleRevoke> {
  static override summary = 'Revoke path permissions from an etcd role.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };
  static override flags = roleKvFlags('Revoke');

  async run(): Promise<void> {
    const { path, permission } = roleKvChange(this.flags);
    const name = this.oneName('Please provide a role name');
    await this.client().getRole(name);
    await this.client().revokeRoleKv(name, [path], permission);
    this.write(`Role ${name} updated\n`);
  }
}
