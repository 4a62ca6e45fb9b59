import { AuthCommand } from '../../auth-command.js';

/** `deimosctl auth enable`. */
export default class AuthEnable extends AuthCommand<typeof AuthEnable> {
  static override summary = 'Enable auth access controls (the root user must exist).';

  async run(): Promise<void> {
    await this.client().enableAuth();
    this.write('Authentication Enabled\n');
  }
}
