import { Args, Flags } from '@oclif/core';
import type { PermissionType } from '@deimos/client';
import { AuthCommand, authUsage } from '../../auth-command.js';

/** `deimosctl role grant <role> --path <path> --read|--write|--readwrite`. */
export default class RoleGrant extends AuthCommand<typeof RoleGrant> {
  static override summary = 'Grant path permissions to an etcd role.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    path: Flags.string({ description: 'Path granted for the role to access (a trailing * matches a prefix)' }),
    read: Flags.boolean({ description: 'Grant read access' }),
    write: Flags.boolean({ description: 'Grant write access' }),
    readwrite: Flags.boolean({ aliases: ['rw'], description: 'Grant read-write access' }),
  };

  async run(): Promise<void> {
    const { path, read, write, readwrite } = this.flags;
    // etcdctl's order of checks: the path, then exactly one permission, then the role name.
    if (path === undefined || path === '') throw authUsage('No path specified; please use `--path`');
    const chosen = [read ? 'read' : '', write ? 'write' : '', readwrite ? 'readwrite' : ''].filter((p) => p !== '');
    if (chosen.length !== 1) throw authUsage('Please specify exactly one of --read, --write or --readwrite');
    const name = this.oneName('Please provide a role name');
    // etcdctl reads the role first: a missing one is reported from that read.
    await this.client().getRole(name);
    await this.client().grantRoleKv(name, [path], chosen[0] as PermissionType);
    this.write(`Role ${name} updated\n`);
  }
}
