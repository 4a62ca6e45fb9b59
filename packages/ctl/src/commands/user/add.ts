import { Args } from '@oclif/core';
import { AuthCommand } from '../../auth-command.js';
import { splitUserPassword } from '../../credentials.js';
import { promptPassword } from '../../prompt-password.js';

/** `deimosctl user add <user[:password]>`. */
export default class UserAdd extends AuthCommand<typeof UserAdd> {
  static override summary = 'Add a new user for the etcd cluster (the password is asked for when not given as user:password).';
  static override strict = false;
  static override args = { user: Args.string({ description: 'user name, or user:password', required: true }) };

  async run(): Promise<void> {
    const { username, password } = splitUserPassword(this.oneName('Please provide a username'));
    const pass = password ?? (await promptPassword('New password: '));
    await this.client().addUser(username, pass);
    this.write(`User ${username} created\n`);
  }
}
