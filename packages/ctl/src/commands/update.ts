import { keyArg, requireKey, ttlFlag, ttlOption, valueArg } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl update <key> [value]`: updates a key that must exist. */
export default class Update extends DeimosCommand<typeof Update> {
  static override summary = 'Update an existing key with a given value.';
  static override examples = ['<%= config.bin %> update /foo baz', '<%= config.bin %> update /foo baz --ttl 10'];
  static override args = { key: keyArg, value: valueArg };
  static override flags = { ttl: ttlFlag };

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const value = await this.valueOrStdin(this.args.value);
    const resp = await this.client().update(key, value, ttlOption(this.flags.ttl));
    this.printResponse(resp);
  }
}
