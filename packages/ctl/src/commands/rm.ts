import { Flags } from '@oclif/core';
import { keyArg, requireKey } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl rm <key>`: deletes a key or directory, optionally compare-and-delete. */
export default class Rm extends DeimosCommand<typeof Rm> {
  static override summary = 'Remove a key or a directory.';
  static override examples = [
    '<%= config.bin %> rm /foo',
    '<%= config.bin %> rm /dir --dir',
    '<%= config.bin %> rm /dir --recursive',
    '<%= config.bin %> rm /foo --with-value bar',
    '<%= config.bin %> rm /foo --with-index 42',
  ];
  static override args = { key: keyArg };
  static override flags = {
    dir: Flags.boolean({ description: 'remove the key if it is an empty directory or a key-value pair' }),
    recursive: Flags.boolean({ char: 'r', description: 'remove the key and all child keys (directories)' }),
    'with-value': Flags.string({ description: 'only remove if the current value is this' }),
    'with-index': Flags.integer({ description: 'only remove if the current modifiedIndex is this', min: 0 }),
  };

  async run(): Promise<void> {
    const resp = await this.client().delete(requireKey(this.args.key), {
      dir: this.flags.dir,
      recursive: this.flags.recursive,
      // Empty is not given, as etcdctl reads it (as --with-index 0).
      ...(this.flags['with-value'] ? { prevValue: this.flags['with-value'] } : {}),
      ...(this.flags['with-index'] ? { prevIndex: this.flags['with-index'] } : {}),
    });
    if (!resp.node?.dir || this.mode !== 'simple') this.printResponse(resp);
  }
}
