import { Flags } from '@oclif/core';
import { keyArg, requireKey } from '../args.js';
import { DeimosCommand } from '../base-command.js';
import { formatWatchEvent } from '../format.js';
import { linearizableIndex } from '../linearizable-index.js';
import { afterIndexOption, exitOnSignal } from '../watch-options.js';

/** `deimosctl watch <key>`: prints the next change (or every change with --forever). */
export default class Watch extends DeimosCommand<typeof Watch> {
  static override summary = 'Watch a key for changes.';
  static override description = 'By default the watch starts linearizably: a quorum read fixes the current index first, so no change older than the command is reported, even by a member that lags behind (without a quorum the watch fails after --timeout). --serializable registers on the contacted member at once, from its own index. --after-index sets the starting point explicitly.';
  static override examples = [
    '<%= config.bin %> watch /foo',
    '<%= config.bin %> watch /dir --recursive --forever',
    '<%= config.bin %> watch /foo --after-index 42',
    '<%= config.bin %> watch /foo --serializable',
  ];
  static override args = { key: keyArg };
  static override flags = {
    forever: Flags.boolean({ char: 'f', description: 'keep watching until interrupted (SIGINT)' }),
    'after-index': Flags.integer({ description: 'watch for changes after this index', min: 0 }),
    recursive: Flags.boolean({ char: 'r', description: 'watch every key under the directory' }),
    serializable: Flags.boolean({ description: 'start from the contacted member\'s own index, without asking a quorum: works without a leader (default: a linearizable start, which needs a quorum)' }),
  };

  protected override readsLinearizably(): boolean {
    return !this.flags.serializable;
  }

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const { recursive, forever } = this.flags;
    exitOnSignal();
    const client = this.client();
    const afterIndex = this.flags['after-index'] || (this.flags.serializable ? undefined : await linearizableIndex(client, key));
    // Ends (exit 4) once no endpoint answers, as etcdctl's watch does: a script restarting it learns.
    const events = client.watch(key, { recursive, endWhenUnavailable: true, ...afterIndexOption(afterIndex) });
    for await (const resp of events) {
      if (resp.node?.dir) continue;
      this.write(formatWatchEvent(resp, this.mode, { recursive }));
      if (!forever) break;
    }
  }
}
