import { keyArg, requireKey, ttlFlag, ttlOption } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl setdir <key>`: creates a directory, or sets the TTL of an existing one. */
export default class Setdir extends DeimosCommand<typeof Setdir> {
  static override summary = 'Create a new directory or update an existing directory TTL.';
  static override examples = ['<%= config.bin %> setdir /dir', '<%= config.bin %> setdir /dir --ttl 60'];
  static override args = { key: keyArg };
  static override flags = { ttl: ttlFlag };

  async run(): Promise<void> {
    const resp = await this.client().setdir(requireKey(this.args.key), ttlOption(this.flags.ttl));
    if (this.mode !== 'simple') this.printResponse(resp);
  }
}
