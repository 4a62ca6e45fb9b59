import { Flags } from '@oclif/core';
import type { MemberJSON } from '@deimos/protocol';
import { DeimosCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import { exitOnSignal } from '../watch-options.js';

/** Time between two checks with `--forever` (etcdctl's fixed 10 seconds). */
const FOREVER_INTERVAL_MS = 10_000;

/** `deimosctl cluster-health`: asks every member's /health, once or every 10 seconds. */
export default class ClusterHealth extends DeimosCommand<typeof ClusterHealth> {
  static override summary = 'Check the health of the cluster (exit 5 unless every member is healthy).';
  /** As etcdctl: the members come from the endpoints as given (no sync first). */
  static override syncFirst = false;
  static override examples = [
    '<%= config.bin %> cluster-health',
    '<%= config.bin %> cluster-health --endpoints http://10.0.0.1:4001',
    '<%= config.bin %> cluster-health --forever',
  ];
  static override flags = {
    forever: Flags.boolean({ char: 'f', description: 'check the health every 10 seconds until interrupted (CTRL+C exits 0)' }),
  };

  async run(): Promise<void> {
    if (this.flags.forever) exitOnSignal();
    const client = this.client();
    let members: MemberJSON[];
    try {
      members = await client.members();
    } catch (err) {
      this.write('cluster may be unhealthy: failed to list members\n');
      throw err;
    }
    // As etcdctl: the member list is read once; --forever re-checks the same members.
    for (;;) {
      const healthy = await this.checkAll(members);
      if (!this.flags.forever) {
        if (healthy !== members.length) this.exit(ExitCode.ClusterNotHealthy);
        return;
      }
      this.write(`\nnext check after ${FOREVER_INTERVAL_MS / 1000} second...\n\n`);
      await new Promise((resolve) => setTimeout(resolve, FOREVER_INTERVAL_MS));
    }
  }

  /** One round over every member, then the verdict line; returns the number of healthy members. */
  private async checkAll(members: MemberJSON[]): Promise<number> {
    let healthy = 0;
    for (const m of members) if (await this.checkMember(m)) healthy += 1;
    if (healthy === members.length) this.write(`${this.out.green('cluster is healthy')}\n`);
    else this.write(`${this.out.red(healthy > 0 ? 'cluster is degraded' : 'cluster is unavailable')}\n`);
    return healthy;
  }

  /** Prints one member's result (etcdctl's wording); true when it answered healthy. */
  private async checkMember(m: MemberJSON): Promise<boolean> {
    if (m.clientURLs.length === 0) {
      this.write(`member ${m.id} is unreachable: no available published client urls\n`);
      return false;
    }
    for (const url of m.clientURLs) {
      let ok: boolean;
      try {
        ok = await this.client().health(url);
      } catch (err) {
        this.write(`failed to check the health of member ${m.id} on ${url}: ${(err as Error).message}\n`);
        continue;
      }
      this.write(ok
        ? `member ${m.id} is healthy: got healthy result from ${url}\n`
        : `member ${m.id} is unhealthy: got unhealthy result from ${url}\n`);
      return ok;
    }
    this.write(`member ${m.id} is unreachable: [${m.clientURLs.join(' ')}] are all unreachable\n`);
    return false;
  }
}
