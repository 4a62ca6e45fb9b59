/**
 * The base of etcdctl's auth commands (`user`, `role`, `auth`): their errors are printed bare (the
 * server's message, `Insufficient credentials`, `auth: User alice does not exist.`) and exit 1, as
 * etcdctl prints err.Error() and exits 1 there.
 */
import type { Command } from '@oclif/core';
import { DeimosCommand } from './base-command.js';
import { CtlError } from './ctl-error.js';
import { MEMBERS_FAILURE, type FailurePolicy } from './describe-error.js';
import { ExitCode } from './exit-codes.js';

/** An auth command: bare error lines, exit 1. */
export abstract class AuthCommand<T extends typeof Command> extends DeimosCommand<T> {
  static override failure: FailurePolicy = MEMBERS_FAILURE;

  override async init(): Promise<void> {
    await super.init();
    // etcdctl's auth commands make a second client after the sync, which prints its endpoints again.
    if (this.flags.debug) process.stderr.write(`Cluster-Endpoints: ${this.client().endpoints.join(', ')}\n`);
  }

  /** The single name argument, or etcdctl's `message` (bare, exit 1) when there is not exactly one. */
  protected oneName(message: string): string {
    const name = this.argvPositional[0];
    if (this.argvPositional.length !== 1 || name === undefined) throw authUsage(message);
    return name;
  }
}

/** A usage mistake in an auth command: etcdctl prints the line bare and exits 1. */
export function authUsage(message: string): CtlError {
  return new CtlError('EUSAGE', message, ExitCode.BadArgs, { bare: true });
}
