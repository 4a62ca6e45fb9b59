import { Flags } from '@oclif/core';
import { keyArg, requireKey } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl get <key>`: prints the value of a key. */
export default class Get extends DeimosCommand<typeof Get> {
  static override summary = 'Retrieve the value of a key.';
  static override examples = [
    '<%= config.bin %> get /foo',
    '<%= config.bin %> get /foo --quorum',
    '<%= config.bin %> -o extended get /foo',
    '<%= config.bin %> get /foo -o json --endpoints http://10.0.0.1:4001',
  ];
  static override args = { key: keyArg };
  static override flags = {
    quorum: Flags.boolean({ description: 'require a quorum for the read (linearizable)' }),
    sort: Flags.boolean({ description: 'sort the children of a directory' }),
  };

  async run(): Promise<void> {
    const key = requireKey(this.args.key);
    const resp = await this.client().get(key, { quorum: this.flags.quorum, sorted: this.flags.sort });
    if (resp.node?.dir) {
      process.stderr.write(`${resp.node.key ?? key}: is a directory\n`);
      this.exit(1);
    }
    this.printResponse(resp);
  }
}
