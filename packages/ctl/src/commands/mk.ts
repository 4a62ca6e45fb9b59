import { Flags } from '@oclif/core';
import { keyArg, requireKey, ttlFlag, ttlOption, valueArg } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl mk <key> [value]`: creates a key that must not exist yet. */
export default class Mk extends DeimosCommand<typeof Mk> {
  static override summary = 'Make a new key with a given value (fails if it exists).';
  static override examples = [
    '<%= config.bin %> mk /foo bar',
    '<%= config.bin %> mk /queue job1 --in-order',
    '<%= config.bin %> mk /session s1 --ttl 30',
  ];
  static override args = { key: keyArg, value: valueArg };
  static override flags = {
    'in-order': Flags.boolean({ description: 'create an in-order key under the given directory' }),
    ttl: ttlFlag,
  };

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const value = await this.valueOrStdin(this.args.value);
    const client = this.client();
    const opts = ttlOption(this.flags.ttl);
    const resp = this.flags['in-order'] ? await client.createInOrder(key, value, opts) : await client.create(key, value, opts);
    this.printResponse(resp);
  }
}
