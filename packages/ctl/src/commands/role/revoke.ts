import { Args, Flags } from '@oclif/core';
import type { PermissionType } from '@deimos/client';
import { AuthCommand, authUsage } from '../../auth-command.js';

/** `deimosctl role revoke <role> --path <path> --read|--write|--readwrite`. */
export default class RoleRevoke extends AuthCommand<typeof RoleRevoke> {
  static override summary = 'Revoke path permissions from an etcd role.';
  static override strict = false;
  static override args = { role: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    path: Flags.string({ description: 'Path revoked for the role to access (a trailing * matches a prefix)' }),
    read: Flags.boolean({ description: 'Revoke read access' }),
    write: Flags.boolean({ description: 'Revoke write access' }),
    readwrite: Flags.boolean({ aliases: ['rw'], description: 'Revoke read-write access' }),
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
    await this.client().revokeRoleKv(name, [path], chosen[0] as PermissionType);
    this.write(`Role ${name} updated\n`);
  }
}
