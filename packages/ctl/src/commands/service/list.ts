import { Args } from '@oclif/core';
import { ServiceRegistry } from '@deimos/client';
import { DeimosCommand } from '../../base-command.js';
import { UNREACHABLE_FAILURE } from '../../describe-error.js';
import { usageError } from '../../ctl-error.js';
import { formatInstances, servicePrefixFlag } from '../../service-flags.js';

/** `deimosctl service list <service>`: the instances registered now. */
export default class ServiceList extends DeimosCommand<typeof ServiceList> {
  static override summary = 'List the live instances of a service: one "<id> <value>" line each, sorted by id.';
  /** No etcdctl counterpart: an unreachable cluster is exit 2 (bad connection), as lock and elect. */
  static override failure = UNREACHABLE_FAILURE;
  static override description = 'Prints nothing (exit 0) when no instance is registered. With -o json: one JSON array of {id, value}.';
  static override examples = ['<%= config.bin %> service list web', '<%= config.bin %> service list web -o json'];
  static override args = { service: Args.string({ description: 'name of the service', required: true, ignoreStdin: true }) };
  static override flags = { prefix: servicePrefixFlag };

  async run(): Promise<void> {
    const service = this.args.service;
    if (service === undefined || service === '') throw usageError('service name required');
    const registry = new ServiceRegistry(this.client(), { prefix: this.flags.prefix });
    this.write(formatInstances(await registry.discover(service), this.mode));
  }
}
