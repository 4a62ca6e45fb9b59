import { Args, Flags } from '@oclif/core';
import { DeimosCommand } from '../base-command.js';
import { formatLs } from '../format.js';
import { quorumFlag, readModeOption, serializableFlag } from '../read-mode.js';

/** `deimosctl ls [key]`: lists a directory. */
export default class Ls extends DeimosCommand<typeof Ls> {
  static override summary = 'Retrieve a directory listing.';
  static override description = 'Listings are linearizable by default (a quorum confirms them); --serializable answers from the contacted member\'s own store, possibly stale, and works without a quorum.';
  static override examples = [
    '<%= config.bin %> ls',
    '<%= config.bin %> ls /dir --recursive',
    '<%= config.bin %> ls /dir -p --sort',
    '<%= config.bin %> ls /dir -o json',
    '<%= config.bin %> ls /dir --serializable',
  ];
  static override args = { key: Args.string({ description: 'the directory (default /)', default: '/' }) };
  static override flags = {
    sort: Flags.boolean({ description: 'sort the output' }),
    recursive: Flags.boolean({ char: 'r', description: 'list the subdirectories recursively' }),
    p: Flags.boolean({ char: 'p', helpLabel: '-p', description: 'append a slash (/) to directories' }),
    serializable: serializableFlag,
    quorum: quorumFlag,
  };

  protected override readsLinearizably(): boolean {
    return !this.flags.serializable;
  }

  async run(): Promise<void> {
    const resp = await this.client().get(this.args.key, { sorted: this.flags.sort, recursive: this.flags.recursive, ...readModeOption(this.flags) });
    if (this.mode === 'simple') this.write(formatLs(resp, { slashDirs: this.flags.p }));
    else this.printResponse(resp);
  }
}
