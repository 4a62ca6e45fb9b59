import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';
import { promptPassword } from '../../prompt-password.js';

/** `deimosctl user passwd <user>`. */
export default class UserPasswd extends AuthCommand<typeof UserPasswd> {
  static override summary = 'Change password for a user (asked for).';
  static override strict = false;
  static override args = { user: Args.string({ description: 'user name', required: true }) };

  async run(): Promise<void> {
    const name = this.oneName('Please provide a username');
    const pass = await promptPassword('New password: ');
    await this.client().changePassword(name, pass);
    this.write('Password updated\n');
  }
}
