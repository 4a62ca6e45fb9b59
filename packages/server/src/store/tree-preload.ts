/**
 * Builds the tree of a state database file off to the side, in steps, for `Store.reload(tree)`: a
 * follower reads a received snapshot's state this way before raft installs it, while it goes on
 * answering the leader and serving clients from the state it has. Loaded in one run at install
 * time instead, 200k keys held the member's thread ~1.2 s, long enough for a leader that counted on
 * it for its quorum to step down.
 */
import { SqliteBackend } from './sqlite-backend.js';
import { StoreStateError } from './store-errors.js';
import { Tree } from './tree.js';
import { TreeLoader } from './tree-loader.js';

/** Rows read and placed between two turns of the event loop (~10-20 ms of work here). */
export const PRELOAD_ROWS_PER_STEP = 4096;

/** Reads every node of `file` into a new tree; rejects as a load would for a damaged or inconsistent state. */
export async function preloadTree(file: string, options: { rowsPerStep?: number; signal?: AbortSignal } = {}): Promise<Tree> {
  const tree = new Tree();
  const loader = new TreeLoader(tree);
  try {
    for await (const rows of SqliteBackend.readNodesInSteps(file, options.rowsPerStep ?? PRELOAD_ROWS_PER_STEP, options.signal)) {
      for (const row of rows) loader.add(row);
    }
    loader.finish();
  } catch (err) {
    if (err instanceof StoreStateError || options.signal?.aborted === true) throw err;
    // A row whose parent is missing or a file, two rows of one path: the tree cannot be built.
    throw new StoreStateError('INVALID_SNAPSHOT', `${file} holds no consistent tree: ${(err as Error).message}`);
  }
  return tree;
}
