import { Args } from '@oclif/core';
import { AuthCommand, authUsage } from '../../auth-command.js';

/** `deimosctl role add <role>`. */
export default class RoleAdd extends AuthCommand<typeof RoleAdd> {
  static override summary = 'Add a new role for the etcd cluster.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };

  async run(): Promise<void> {
    const name = this.oneName('Please provide a role name');
    const client = this.client();
    // etcdctl looks the role up first and says so when it exists (etcd would answer 409 otherwise).
    const existing = await client.getRole(name).catch(() => undefined);
    if (existing !== undefined) throw authUsage(`Role ${name} already exists`);
    await client.addRole(name);
    this.write(`Role ${name} created\n`);
  }
}
