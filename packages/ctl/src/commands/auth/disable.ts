import { AuthCommand } from '../../auth-command.js';

/** `deimosctl auth disable`. */
export default class AuthDisable extends AuthCommand<typeof AuthDisable> {
  static override summary = 'Disable auth access controls (needs the root user\'s credentials).';

  async run(): Promise<void> {
    await this.client().disableAuth();
    this.write('Authentication Disabled\n');
  }
}
