import { Flags } from '@oclif/core';
import { keyArg, requireKey, ttlFlag, ttlOption, valueArg } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl set <key> [value]`: sets a key, optionally compare-and-swap. */
export default class Set extends DeimosCommand<typeof Set> {
  static override summary = 'Set the value of a key (the value is read from stdin when absent).';
  static override examples = [
    '<%= config.bin %> set /foo bar',
    '<%= config.bin %> set /foo bar --ttl 60',
    '<%= config.bin %> set /foo new --swap-with-value old',
    '<%= config.bin %> set /foo new --swap-with-index 42',
    'echo -n bar | <%= config.bin %> set /foo',
  ];
  static override args = { key: keyArg, value: valueArg };
  static override flags = {
    ttl: ttlFlag,
    'swap-with-value': Flags.string({ description: 'only set if the current value is this' }),
    'swap-with-index': Flags.integer({ description: 'only set if the current modifiedIndex is this', min: 0 }),
  };

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const value = await this.valueOrStdin(this.args.value);
    const resp = await this.client().set(key, value, {
      ...ttlOption(this.flags.ttl),
      // Empty is not given, as etcdctl reads it (as --swap-with-index 0).
      ...(this.flags['swap-with-value'] ? { prevValue: this.flags['swap-with-value'] } : {}),
      ...(this.flags['swap-with-index'] ? { prevIndex: this.flags['swap-with-index'] } : {}),
    });
    this.printResponse(resp);
  }
}
