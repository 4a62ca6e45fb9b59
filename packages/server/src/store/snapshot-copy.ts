/**
 * Snapshot files written off the consensus thread. A leader sends a follower that fell too far
 * behind a copy of the state database (`VACUUM INTO`), which takes about a second per 100 MB of
 * state: on the member's thread that stopped its heartbeats long enough for the followers to elect
 * another leader. Each copy runs on a thread of its own (snapshots are rare; the thread exists
 * only for the copy) with its own connection, which reads the last committed state (WAL mode: the
 * member's writes go on meanwhile, and the copy carries its own applied index, so a copy newer than
 * the raft snapshot it goes with is installed correctly, as it always could be).
 *
 * A writable connection closed after its database file was replaced could take itself for the last
 * one and delete the new WAL. The copies' connections are read-only, which cannot (they never take
 * the write lock), and the owner still calls {@link SnapshotCopies.waitClosed} before it replaces or
 * closes the file, so a copy never reads a file being swapped.
 */
import { Worker } from 'node:worker_threads';
import { keepYoungGenerationCap } from '../heap-tuning.js';

/** What the thread is given. */
export interface SnapshotCopyData {
  source: string;
  target: string;
  /** Int32 1 while the thread's connection is open. */
  flag: SharedArrayBuffer;
}

/** What the thread answers. */
export type SnapshotCopyOutcome = { ok: true } | { ok: false; message: string; code: unknown };

/** Longest the owner waits for running copies to close their connections. */
const CLOSE_WAIT_MS = 60_000;

/** A failed copy, with SQLite's code (SQLITE_FULL for a full disk). */
export class SnapshotCopyError extends Error {
  constructor(message: string, readonly code: unknown) {
    super(message);
    this.name = 'SnapshotCopyError';
  }
}

/** The copies of one database file; see the module comment. */
export class SnapshotCopies {
  private readonly open = new Set<Int32Array>();

  constructor(private readonly source: string) {}

  /** Writes a copy of the committed state to `target` (fsynced) on a thread. */
  copyTo(target: string): Promise<void> {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    flag[0] = 1;
    const data: SnapshotCopyData = { source: this.source, target, flag: flag.buffer as SharedArrayBuffer };
    const worker = new Worker(new URL('./snapshot-copy-thread.js', import.meta.url), {
      workerData: data,
      // VACUUM's working memory is SQLite's, not the heap's.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 },
    });
    this.open.add(flag);
    keepYoungGenerationCap(worker);
    return new Promise<void>((resolve, reject) => {
      let outcome: SnapshotCopyOutcome | undefined;
      worker.once('message', (m: SnapshotCopyOutcome) => (outcome = m));
      worker.once('error', (err) => (outcome ??= { ok: false, message: err.message, code: (err as { code?: unknown }).code }));
      worker.once('exit', () => {
        // Gone: its connection is closed whatever it managed to say.
        Atomics.store(flag, 0, 0);
        this.open.delete(flag);
        if (outcome?.ok === true) return resolve();
        reject(new SnapshotCopyError(outcome?.message ?? 'snapshot copy thread exited without an answer', outcome?.ok === false ? outcome.code : undefined));
      });
    });
  }

  /** Blocks until every running copy has closed its connection (bounded; called before the file is replaced or closed). */
  waitClosed(): void {
    const deadline = Date.now() + CLOSE_WAIT_MS;
    for (const flag of this.open) {
      while (Atomics.load(flag, 0) === 1) {
        const left = deadline - Date.now();
        if (left <= 0) return;
        Atomics.wait(flag, 0, 1, left);
      }
    }
  }
}
