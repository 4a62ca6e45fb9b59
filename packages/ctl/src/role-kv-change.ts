/**
 * What `role grant` and `role revoke` share (they differ only in the verb and the client call):
 * their flags, and etcdctl's order of checks (the path, then exactly one permission, then the
 * role name, then a read of the role so that a missing one is reported from that read).
 */
import { Flags } from '@oclif/core';
import type { PermissionType } from '@deimos/client';
import { authUsage } from './auth-command.js';

/** The flags of `role grant|revoke`, their help worded for `verb`. */
export function roleKvFlags(verb: 'Grant' | 'Revoke') {
  const past = verb === 'Grant' ? 'granted' : 'revoked';
  return {
    path: Flags.string({ description: `Path ${past} for the role to access (a trailing * matches a prefix)` }),
    read: Flags.boolean({ description: `${verb} read access` }),
    write: Flags.boolean({ description: `${verb} write access` }),
    readwrite: Flags.boolean({ aliases: ['rw'], description: `${verb} read-write access` }),
  };
}

/** The path and the one permission the flags name; throws etcdctl's usage errors. */
export function roleKvChange(flags: { path?: string; read: boolean; write: boolean; readwrite: boolean }): { path: string; permission: PermissionType } {
  const { path, read, write, readwrite } = flags;
  if (path === undefined || path === '') throw authUsage('No path specified; please use `--path`');
  const chosen = [read ? 'read' : '', write ? 'write' : '', readwrite ? 'readwrite' : ''].filter((p) => p !== '');
  if (chosen.length !== 1) throw authUsage('Please specify exactly one of --read, --write or --readwrite');
  return { path, permission: chosen[0] as PermissionType };
}
