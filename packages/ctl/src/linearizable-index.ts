import { DeimosError, type DeimosClient } from '@deimos/client';

const KEY_NOT_FOUND = 100;

/**
 * The store index of a linearizable read of `key` (a quorum confirms it): a watch that starts after
 * it reports no change older than the command, even when registered on a member that lags behind.
 * A missing key is fine (its error carries the index); without a quorum this fails like `get`.
 */
export async function linearizableIndex(client: DeimosClient, key: string): Promise<number> {
  try {
    return (await client.get(key, { quorum: true })).etcdIndex;
  } catch (err) {
    if (err instanceof DeimosError && err.errorCode === KEY_NOT_FOUND) return err.index;
    throw err;
  }
}
