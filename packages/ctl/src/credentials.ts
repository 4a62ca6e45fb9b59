/** The global `--username` (`-u`, DEIMOSCTL_USERNAME, ETCDCTL_USERNAME): `user:password`, or a user whose password is asked for. */
import type { Credentials } from '@deimos/client';
import { promptPassword } from './prompt-password.js';

/** Splits `user:password` at the first colon (etcdctl's rule); undefined password: none was given. */
export function splitUserPassword(text: string): { username: string; password: string | undefined } {
  const colon = text.indexOf(':');
  return colon < 0 ? { username: text, password: undefined } : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The credentials of `--username`, prompting `Password: ` when it names only the user; undefined without the flag. */
export async function resolveCredentials(flag: string | undefined): Promise<Credentials | undefined> {
  if (flag === undefined || flag === '') return undefined;
  const { username, password } = splitUserPassword(flag);
  return { username, password: password ?? (await promptPassword('Password: ')) };
}
