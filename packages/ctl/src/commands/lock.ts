import { Args, Flags } from '@oclif/core';
import { Lock } from '@deimos/client';
import { DeimosCommand } from '../base-command.js';
import { UNREACHABLE_FAILURE } from '../describe-error.js';
import { usageError } from '../ctl-error.js';
import { recipeLocation } from '../recipe-name.js';
import { startCommand } from '../run-command.js';
import { keepProcessAlive, untilSignal } from '../watch-options.js';

/** `deimosctl lock <name> [-- command...]`: holds a distributed lock while a command runs (or until SIGINT). */
export default class LockCommand extends DeimosCommand<typeof LockCommand> {
  static override summary = 'Acquire a named lock; run a command while holding it, or hold it until interrupted.';
  /** No etcdctl counterpart: an unreachable cluster is the issue's exit 2 (bad connection). */
  static override failure = UNREACHABLE_FAILURE;
  static override description = 'Without a command the lock key is printed and the lock is held until SIGINT/SIGTERM. '
    + 'With `-- command...` the command runs while the lock is held (env DEIMOS_LOCK_KEY), the lock is released '
    + 'afterwards and deimosctl exits with the command\'s exit code (1 when it cannot be started, as exec-watch). A bare name lives under /locks; a name '
    + 'starting with / is used as the lock directory. If the holder dies, the lock frees itself after --ttl seconds; '
    + 'on Linux the command gets SIGTERM when deimosctl dies, even by SIGKILL (a shell script should exec its last command), '
    + 'and when the lock is lost (its key could not be refreshed within --ttl).';
  static override examples = [
    '<%= config.bin %> lock deploy -- ./deploy.sh',
    '<%= config.bin %> lock /locks/backup --ttl 10 -- sh -c \'pg_dump db > db.sql\'',
    '<%= config.bin %> lock maintenance',
  ];
  static override usage = ['lock NAME [--ttl <seconds>] [-- COMMAND [ARG...]]'];
  static override strict = false;
  static override passThrough = true;
  static override args = { name: Args.string({ description: 'name of the lock', required: true }) };
  static override flags = { ttl: Flags.integer({ description: 'seconds the lock outlives a holder that died', default: 30, min: 1 }) };

  async run(): Promise<void> {
    const name = this.args.name;
    if (name === undefined || this.argvPositional.length > 1) throw usageError('lock name required (and a command only after --)');
    const where = recipeLocation(name);
    const stop = untilSignal();
    let lost: Error | undefined;
    let onLost: (() => void) | undefined;
    const lock = new Lock(this.client(), where.name, {
      ttl: this.flags.ttl, releaseOnExit: false, ...(where.prefix !== undefined ? { prefix: where.prefix } : {}),
      onLost: (err) => {
        lost = err;
        onLost?.();
      },
    });
    try {
      await lock.acquire(stop.signal);
    } catch (err) {
      if (stop.signal.aborted) return; // interrupted while waiting: the queue key is already gone
      throw err;
    }
    const code = this.passThrough.length > 0 ? await this.runHolding(lock, stop.signal, (f) => (onLost = f)) : await this.hold(lock, stop.promise, (f) => (onLost = f));
    await lock.release();
    if (lost) {
      process.stderr.write(`${this.err.red(`Error:  lock lost: ${lost.message}`)}\n`);
      this.exit(1);
    }
    if (code !== 0) this.exit(code);
  }

  /**
   * Runs the command while holding; a lost lock or a signal terminates it (SIGTERM), a further
   * signal kills it (SIGKILL). Either way deimosctl waits for it to end before the lock is released:
   * a second Ctrl-C that ended deimosctl at once left the command running while a waiter took the
   * lock. Returns its exit code.
   */
  private async runHolding(lock: Lock, signal: AbortSignal, setOnLost: (f: () => void) => void): Promise<number> {
    if (signal.aborted) return 130; // interrupted between the acquire and the start: nothing to run
    const running = startCommand(this.passThrough, { DEIMOS_LOCK_KEY: lock.key ?? '', DEIMOS_LOCK_NAME: lock.dir }, { endWithParent: true });
    let signals = 0;
    const kill = () => running.child.kill('SIGTERM');
    const onSignal = () => {
      // The first signal also aborts `signal` (its SIGTERM is sent there); later ones escalate.
      if (++signals > 1) running.child.kill('SIGKILL');
    };
    setOnLost(kill);
    signal.addEventListener('abort', kill, { once: true });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      return await running.exited;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** Prints the lock key and holds until a signal or the loss of the lock. */
  private async hold(lock: Lock, stopped: Promise<unknown>, setOnLost: (f: () => void) => void): Promise<number> {
    this.write(`${lock.key ?? lock.dir}\n`);
    const release = keepProcessAlive();
    await new Promise<void>((resolve) => {
      setOnLost(resolve);
      void stopped.then(() => resolve());
    });
    release();
    return 0;
  }
}
