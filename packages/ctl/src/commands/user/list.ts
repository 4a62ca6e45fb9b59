import { AuthCommand } from '../../auth-command.js';

/** `deimosctl user list`. */
export default class UserList extends AuthCommand<typeof UserList> {
  static override summary = 'List all current users.';

  async run(): Promise<void> {
    this.write((await this.client().listUsers()).map((u) => `${u}\n`).join(''));
  }
}
