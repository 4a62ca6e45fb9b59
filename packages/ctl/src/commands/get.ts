import { Flags } from '@oclif/core';
import { keyArg, requireKey } from '../args.js';
import { DeimosCommand } from '../base-command.js';
import { quorumFlag, readModeOption, serializableFlag } from '../read-mode.js';

/** `deimosctl get <key>`: prints the value of a key. */
export default class Get extends DeimosCommand<typeof Get> {
  static override summary = 'Retrieve the value of a key.';
  static override description = 'Reads are linearizable by default: the member confirms with a quorum that its answer is current, so a member without a quorum fails the read after --timeout. --serializable answers from the member\'s own store at once, possibly stale.';
  static override examples = [
    '<%= config.bin %> get /foo',
    '<%= config.bin %> get /foo --serializable',
    '<%= config.bin %> -o extended get /foo',
    '<%= config.bin %> get /foo -o json --endpoints http://10.0.0.1:4001',
  ];
  static override args = { key: keyArg };
  static override flags = {
    serializable: serializableFlag,
    quorum: quorumFlag,
    sort: Flags.boolean({ description: 'sort the children of a directory' }),
  };

  protected override readsLinearizably(): boolean {
    return !this.flags.serializable;
  }

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const resp = await this.client().get(key, { ...readModeOption(this.flags), sorted: this.flags.sort });
    if (resp.node?.dir) {
      process.stderr.write(`${resp.node.key ?? key}: is a directory\n`);
      this.exit(1);
    }
    this.printResponse(resp);
  }
}
