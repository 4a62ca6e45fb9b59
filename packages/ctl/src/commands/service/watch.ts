import { Args } from '@oclif/core';
import { ServiceRegistry } from '@deimos/client';
import { DeimosCommand } from '../../base-command.js';
import { UNREACHABLE_FAILURE } from '../../describe-error.js';
import { usageError } from '../../ctl-error.js';
import { formatInstances, servicePrefixFlag } from '../../service-flags.js';
import { keepProcessAlive, untilSignal } from '../../watch-options.js';

/** `deimosctl service watch <service>`: the instance list now and after every change, until interrupted. */
export default class ServiceWatch extends DeimosCommand<typeof ServiceWatch> {
  static override summary = 'Print the instances of a service now and again after every change, until interrupted.';
  static override failure = UNREACHABLE_FAILURE;
  static override description = 'Each listing is the full list: "<id> <value>" lines followed by an empty line '
    + '(with -o json: one JSON array per line). Registrations, value changes, stops and expiries all print a new listing; '
    + 'CTRL+C exits 0.';
  static override examples = ['<%= config.bin %> service watch web', '<%= config.bin %> service watch web -o json'];
  static override args = { service: Args.string({ description: 'name of the service', required: true, ignoreStdin: true }) };
  static override flags = { prefix: servicePrefixFlag };

  async run(): Promise<void> {
    const service = this.args.service;
    if (service === undefined || service === '') throw usageError('service name required');
    const registry = new ServiceRegistry(this.client(), { prefix: this.flags.prefix });
    const stop = untilSignal();
    const release = keepProcessAlive();
    try {
      for await (const instances of registry.watch(service, stop.signal)) {
        this.write(formatInstances(instances, this.mode) + (this.mode === 'json' ? '' : '\n'));
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    } finally {
      release();
    }
  }
}
