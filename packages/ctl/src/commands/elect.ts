import { Args, Flags } from '@oclif/core';
import { Election } from '@deimos/client';
import { DeimosCommand } from '../base-command.js';
import { UNREACHABLE_FAILURE } from '../describe-error.js';
import { usageError } from '../ctl-error.js';
import { recipeLocation } from '../recipe-name.js';
import { keepProcessAlive, untilSignal } from '../watch-options.js';

/** `deimosctl elect <name> <proposal>`: campaigns, prints the proposal once leading, holds until SIGINT. */
export default class Elect extends DeimosCommand<typeof Elect> {
  static override summary = 'Campaign in a named election; print the proposal once elected and lead until interrupted.';
  /** No etcdctl counterpart: an unreachable cluster is the issue's exit 2 (bad connection). */
  static override failure = UNREACHABLE_FAILURE;
  static override description = 'With --listen, print the leader\'s proposal now and after every change instead. '
    + 'A bare name lives under /elections; a name starting with / is used as the election directory. '
    + 'A leader that dies is replaced after --ttl seconds.';
  static override examples = [
    '<%= config.bin %> elect scheduler node1',
    '<%= config.bin %> elect scheduler node2 --ttl 5',
    '<%= config.bin %> elect scheduler --listen',
  ];
  static override args = {
    name: Args.string({ description: 'name of the election', required: true }),
    proposal: Args.string({ description: 'this candidate\'s proposal (e.g. its address; not with --listen)' }),
  };
  static override flags = {
    ttl: Flags.integer({ description: 'seconds a dead leader keeps its place', default: 30, min: 1 }),
    listen: Flags.boolean({ char: 'l', description: 'observe the election: print every new leader' }),
  };

  async run(): Promise<void> {
    const { name, proposal } = this.args;
    if (name === undefined) throw usageError('election name required');
    const where = recipeLocation(name);
    const stop = untilSignal();
    let lost: Error | undefined;
    let onLost: () => void = () => undefined;
    const election = new Election(this.client(), where.name, {
      ttl: this.flags.ttl, releaseOnExit: false, ...(where.prefix !== undefined ? { prefix: where.prefix } : {}),
      onLost: (err) => {
        lost = err;
        onLost();
      },
    });
    if (this.flags.listen) {
      if (proposal !== undefined) throw usageError('a proposal is for a candidate: --listen observes only');
      return this.listen(election, stop.signal);
    }
    if (proposal === undefined) throw usageError('proposal required');
    try {
      await election.campaign(proposal, stop.signal);
    } catch (err) {
      if (stop.signal.aborted) return;
      throw err;
    }
    this.write(`${proposal}\n`);
    const release = keepProcessAlive();
    await new Promise<void>((resolve) => {
      onLost = resolve;
      void stop.promise.then(() => resolve());
    });
    release();
    await election.resign();
    if (lost) {
      process.stderr.write(`${this.err.red(`Error:  leadership lost: ${lost.message}`)}\n`);
      this.exit(1);
    }
  }

  private async listen(election: Election, signal: AbortSignal): Promise<void> {
    try {
      for await (const leader of election.observe(signal)) this.write(`${leader ?? ''}\n`);
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
}
