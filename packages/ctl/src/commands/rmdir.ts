import { keyArg, requireKey } from '../args.js';
import { DeimosCommand } from '../base-command.js';

/** `deimosctl rmdir <key>`: deletes an empty directory. */
export default class Rmdir extends DeimosCommand<typeof Rmdir> {
  static override summary = 'Remove an empty directory (or a key).';
  static override examples = ['<%= config.bin %> rmdir /dir'];
  static override args = { key: keyArg };

  async run(): Promise<void> {
    const resp = await this.client().delete(requireKey(this.args.key), { dir: true });
    if (!resp.node?.dir || this.mode !== 'simple') this.printResponse(resp);
  }
}
