import { keyArg, requireKey, ttlFlag, ttlOption } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl mkdir <key>`: creates a directory that must not exist yet. */
export default class Mkdir extends DeimosCommand<typeof Mkdir> {
  static override summary = 'Make a new directory (fails if it exists).';
  static override examples = ['<%= config.bin %> mkdir /dir', '<%= config.bin %> mkdir /tmp --ttl 60'];
  static override args = { key: keyArg };
  static override flags = { ttl: ttlFlag };

  async run(): Promise<void> {
    const resp = await this.client().mkdir(requireKey(this.args.key), ttlOption(this.flags.ttl));
    if (this.mode !== 'simple') this.printResponse(resp);
  }
}
