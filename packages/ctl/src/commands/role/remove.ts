import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';

/** `deimosctl role remove <role>`. */
export default class RoleRemove extends AuthCommand<typeof RoleRemove> {
  static override summary = 'Remove a role from the etcd cluster.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };

  async run(): Promise<void> {
    const name = this.oneName('Please provide a role name');
    await this.client().removeRole(name);
    this.write(`Role ${name} removed\n`);
  }
}
