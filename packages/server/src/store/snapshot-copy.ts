/**
 * Snapshot files written off the consensus thread. A leader sends a follower that fell too far
 * behind a copy of the state database (`VACUUM INTO`), which takes about a second per 100 MB of
 * state: on the member's thread that stopped its heartbeats long enough for the followers to elect
 * another leader. Each copy runs on a thread of its own (snapshots are rare; the thread exists
 * only for the copy) with its own connection, which reads the last committed state (WAL mode: the
 * member's writes go on meanwhile, and the copy carries its own applied index, so a copy newer than
 * the raft snapshot it goes with is installed correctly, as it always could be).
 *
 * The connection is read-only. A writable one closed after the database file was replaced (a
 * restore while a copy runs) could take itself for the last connection and delete the new WAL; a
 * read-only one never checkpoints or deletes it, and goes on reading the file it opened. So the
 * member neither waits for a copy before it replaces or closes the file, nor stalls its thread.
 */
import { Worker } from 'node:worker_threads';
import { keepYoungGenerationCap } from '../heap-tuning.js';
import { SqliteThreadError } from './store-errors.js';

/** What the thread is given. */
export interface SnapshotCopyData {
  source: string;
  target: string;
}

/** What the thread answers. */
export type SnapshotCopyOutcome = { ok: true } | { ok: false; message: string; code: unknown };

/** Writes a copy of the committed state of the database `source` to `target` (fsynced) on a thread. */
export function copyStateInThread(source: string, target: string): Promise<void> {
  const data: SnapshotCopyData = { source, target };
  const worker = new Worker(new URL('./snapshot-copy-thread.js', import.meta.url), {
    workerData: data,
    // VACUUM's working memory is SQLite's, not the heap's.
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 },
  });
  keepYoungGenerationCap(worker);
  return new Promise<void>((resolve, reject) => {
    let outcome: SnapshotCopyOutcome | undefined;
    worker.once('message', (m: SnapshotCopyOutcome) => (outcome = m));
    worker.once('error', (err) => (outcome ??= { ok: false, message: err.message, code: (err as { code?: unknown }).code }));
    worker.once('exit', () => {
      if (outcome?.ok === true) return resolve();
      reject(new SqliteThreadError(outcome?.message ?? 'snapshot copy thread exited without an answer', outcome?.ok === false ? outcome.code : undefined));
    });
  });
}
