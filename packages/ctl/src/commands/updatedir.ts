import { keyArg, requireKey, ttlFlag, ttlOption } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl updatedir <key> --ttl N`: changes the TTL of an existing directory. */
export default class Updatedir extends DeimosCommand<typeof Updatedir> {
  static override summary = 'Update an existing directory (its TTL).';
  static override examples = ['<%= config.bin %> updatedir /dir --ttl 120', '<%= config.bin %> updatedir /dir'];
  static override args = { key: keyArg };
  static override flags = { ttl: ttlFlag };

  async run(): Promise<void> {
    const resp = await this.client().updatedir(requireKey(this.args.key), ttlOption(this.flags.ttl));
    if (this.mode !== 'simple') this.printResponse(resp);
  }
}
