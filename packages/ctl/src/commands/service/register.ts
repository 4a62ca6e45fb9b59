import { Args, Flags } from '@oclif/core';
import { ServiceRegistry, type Registration } from '@deimos/client';
import { DeimosCommand } from '../../base-command.js';
import { UNREACHABLE_FAILURE } from '../../describe-error.js';
import { usageError } from '../../ctl-error.js';
import { servicePrefixFlag } from '../../service-flags.js';
import { startCommand } from '../../run-command.js';
import { keepProcessAlive, untilSignal } from '../../watch-options.js';

/**
 * `deimosctl service register <service> <id> <value> [-- command...]`: keeps an instance registered
 * (a TTL key refreshed every ttl/3) while a command runs, or until SIGINT/SIGTERM.
 */
export default class ServiceRegister extends DeimosCommand<typeof ServiceRegister> {
  static override summary = 'Register a service instance and keep it alive with a TTL heartbeat until interrupted (or while a command runs).';
  static override failure = UNREACHABLE_FAILURE;
  static override usage = ['service register SERVICE ID VALUE [--ttl <seconds>] [--prefix <dir>] [-- COMMAND [ARG...]]'];
  static override description = 'Writes <prefix>/<service>/<id> = <value> with a TTL and refreshes it every ttl/3 seconds. '
    + 'Without a command the instance key is printed and the registration is held until SIGINT/SIGTERM, then deleted. '
    + 'With `-- COMMAND...` the command runs while registered (env DEIMOS_SERVICE_KEY); the instance is deleted when it '
    + 'ends and deimosctl exits with its exit code. If deimosctl dies, the instance disappears within --ttl seconds.';
  static override examples = [
    '<%= config.bin %> service register web web1 http://10.0.0.1:8080',
    '<%= config.bin %> service register web web1 http://10.0.0.1:8080 --ttl 5 -- ./serve.sh',
  ];
  static override strict = false;
  static override passThrough = true;
  static override args = {
    service: Args.string({ description: 'name of the service', required: true, ignoreStdin: true }),
    id: Args.string({ description: 'this instance\'s id, unique within the service', required: true, ignoreStdin: true }),
    value: Args.string({ description: 'what clients need to reach it (e.g. its URL)', required: true, ignoreStdin: true }),
  };
  static override flags = {
    ttl: Flags.integer({ description: 'seconds an instance outlives its last heartbeat', default: 10, min: 1 }),
    prefix: servicePrefixFlag,
  };

  async run(): Promise<void> {
    const { service, id, value } = this.args;
    if (service === undefined || id === undefined || value === undefined || this.argvPositional.length > 3) {
      throw usageError('service name, instance id and value required (and a command only after --)');
    }
    if (service === '' || id === '' || service.includes('/') || id.includes('/')) throw usageError('service name and instance id must be non-empty and contain no /');
    const registry = new ServiceRegistry(this.client(), { prefix: this.flags.prefix });
    const stop = untilSignal();
    let failures = 0;
    const registration = await registry.register(service, id, value, {
      ttl: this.flags.ttl,
      // A missed beat is retried ttl/3 later; the instance only expires after ~3 failed beats in a row.
      onError: (err) => {
        failures += 1;
        process.stderr.write(`${this.err.yellow(`heartbeat failed (${failures}): ${(err as Error).message}`)}\n`);
      },
    });
    const code = this.passThrough.length > 0 ? await this.runRegistered(registration, stop.signal) : await this.hold(registration, stop.promise);
    await registration.stop();
    if (code !== 0) this.exit(code);
  }

  /** Runs the command while registered; returns its exit code. */
  private async runRegistered(registration: Registration, signal: AbortSignal): Promise<number> {
    const running = startCommand(this.passThrough, { DEIMOS_SERVICE_KEY: registration.key });
    signal.addEventListener('abort', () => running.child.kill('SIGTERM'), { once: true });
    return running.exited;
  }

  /** Prints the instance key and holds the registration until a signal. */
  private async hold(registration: Registration, stopped: Promise<unknown>): Promise<number> {
    this.write(`${registration.key}\n`);
    const release = keepProcessAlive();
    await stopped;
    release();
    return 0;
  }
}
