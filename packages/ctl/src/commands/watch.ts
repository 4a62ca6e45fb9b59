import { Flags } from '@oclif/core';
import { keyArg, requireKey } from '../args.js';
import { DeimosCommand } from '../base-command.js';
import { formatWatchEvent } from '../format.js';
import { afterIndexOption, exitOnSignal } from '../watch-options.js';

/** `deimosctl watch <key>`: prints the next change (or every change with --forever). */
export default class Watch extends DeimosCommand<typeof Watch> {
  static override summary = 'Watch a key for changes.';
  static override examples = [
    '<%= config.bin %> watch /foo',
    '<%= config.bin %> watch /dir --recursive --forever',
    '<%= config.bin %> watch /foo --after-index 42',
  ];
  static override args = { key: keyArg };
  static override flags = {
    forever: Flags.boolean({ description: 'keep watching until interrupted (SIGINT)' }),
    'after-index': Flags.integer({ description: 'watch for changes after this index', min: 0 }),
    recursive: Flags.boolean({ description: 'watch every key under the directory' }),
  };

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const { recursive, forever } = this.flags;
    exitOnSignal();
    const events = this.client().watch(key, { recursive, ...afterIndexOption(this.flags['after-index']) });
    for await (const resp of events) {
      if (resp.node?.dir) continue;
      this.write(formatWatchEvent(resp, this.mode, { recursive }));
      if (!forever) break;
    }
  }
}
