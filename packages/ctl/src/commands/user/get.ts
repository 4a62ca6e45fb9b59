import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';
import { formatUser } from '../../auth-format.js';

/** `deimosctl user get <user>`. */
export default class UserGet extends AuthCommand<typeof UserGet> {
  static override summary = 'Get details for a user.';
  static override strict = false;
  static override args = { user: Args.string({ description: 'user name', required: true }) };

  async run(): Promise<void> {
    const name = this.oneName('Please provide a username');
    this.write(formatUser(await this.client().getUser(name)));
  }
}
