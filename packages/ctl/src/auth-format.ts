/** etcdctl v2's output of users and roles (`user get`, `role get`), as pure functions. */
import type { AuthRole, AuthUser } from '@deimos/client';

/**
 * `user get`: etcdctl's list of roles starts with one empty entry per role (it appends the names to
 * a slice made with that length) and is joined with spaces; the extra spaces are kept byte for byte.
 */
export function formatUser(user: AuthUser): string {
  const roles = [...user.roles.map(() => ''), ...user.roles].join(' ');
  return `User: ${user.user}\nRoles: ${roles}\n`;
}

/** `role get`: the read and the write paths, one per line after a tab. */
export function formatRole(role: AuthRole): string {
  const lines = (paths: string[]): string => paths.map((p) => `\t${p}\n`).join('');
  return `Role: ${role.role}\nKV Read:\n${lines(role.permissions.kv.read)}KV Write:\n${lines(role.permissions.kv.write)}`;
}
