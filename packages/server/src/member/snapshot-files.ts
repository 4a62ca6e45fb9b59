/**
 * State snapshots as files: the leader checkpoints its database into a file that the transport
 * streams to a follower; the follower restores its database from the received file. A raft
 * snapshot's `data` is just the UTF-8 path of such a file.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeUtf8, type Message, type Snapshot } from '@deimos/protocol';
import type { SqliteBackend, Store } from '../store/index.js';
import type { SnapshotPreloads } from './snapshot-preloads.js';
import { DataDirError } from './data-dir.js';

/** Where snapshot files live: `<data-dir>/snap`. */
export function snapshotDir(dataDir: string): string {
  const dir = join(dataDir, 'snap');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // node says only "EEXIST" for a path that is something else (a file, a FIFO).
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DataDirError(`${dir} is not a directory (it holds the snapshots this member sends and receives)`);
    throw err;
  }
  return dir;
}


let seq = 0;

/** Leader side: writes a consistent copy of the state for the follower a MsgSnap is addressed to. */
export async function openSnapshotForSend(backend: SqliteBackend, dir: string, m: Message): Promise<{ path: string; sizeBytes: number }> {
  const path = join(dir, `send-${m.to}-${m.snapshot?.metadata.index ?? 0}-${++seq}.db`);
  // On a thread: a copy of a big state took the leader's thread long enough to lose its term.
  await backend.checkpointToInThread(path);
  return { path, sizeBytes: statSync(path).size };
}

/**
 * Follower side: replaces the state with the received snapshot file, which it takes (renames into
 * place), and with the tree read from it beforehand where `preloads` has it (`preloaded`).
 */
export function restoreFromSnapshot(backend: SqliteBackend, store: Store, snapshot: Snapshot, preloads?: SnapshotPreloads): { preloaded: boolean } {
  const path = decodeUtf8(snapshot.data);
  if (path === '') throw new Error(`snapshot at index ${snapshot.metadata.index} carries no state file`);
  // Taken first: a restore that fails (no room) is tried again later, and that try loads the file.
  const tree = preloads?.take(path);
  backend.restoreFrom(path, snapshot.metadata.index, { consume: true, verified: tree !== undefined });
  store.reload(tree);
  return { preloaded: tree !== undefined };
}
