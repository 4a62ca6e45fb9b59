import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';

/** `deimosctl user remove <user>`. */
export default class UserRemove extends AuthCommand<typeof UserRemove> {
  static override summary = 'Remove a user for the etcd cluster.';
  static override strict = false;
  static override args = { user: Args.string({ description: 'user name', required: true }) };

  async run(): Promise<void> {
    const name = this.oneName('Please provide a username');
    await this.client().removeUser(name);
    this.write(`User ${name} removed\n`);
  }
}
