import { AuthCommand } from '../../auth-command.js';

/** `deimosctl role list`. */
export default class RoleList extends AuthCommand<typeof RoleList> {
  static override summary = 'List all roles.';

  async run(): Promise<void> {
    this.write((await this.client().listRoles()).map((r) => `${r}\n`).join(''));
  }
}
