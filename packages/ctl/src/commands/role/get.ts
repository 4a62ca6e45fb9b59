import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';
import { formatRole } from '../../auth-format.js';

/** `deimosctl role get <role>`. */
export default class RoleGet extends AuthCommand<typeof RoleGet> {
  static override summary = 'Get details for a role.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };

  async run(): Promise<void> {
    const name = this.oneName('Please provide a role name');
    this.write(formatRole(await this.client().getRole(name)));
  }
}
