import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';
import { roleKvChange, roleKvFlags } from '../../role-kv-change.js';

/** `deimosctl role grant <role> --path <path> --read|--write|--readwrite`. */
export default class RoleGrant extends AuthCommand<typeof RoleGrant> {
  static override summary = 'Grant path permissions to an etcd role.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };
  static override flags = roleKvFlags('Grant');

  async run(): Promise<void> {
    const { path, permission } = roleKvChange(this.flags);
    const name = this.oneName('Please provide a role name');
    await this.client().getRole(name);
    await this.client().grantRoleKv(name, [path], permission);
    this.write(`Role ${name} updated\n`);
  }
}
