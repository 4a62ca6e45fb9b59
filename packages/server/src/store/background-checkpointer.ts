/**
 * Moves the state database's WAL checkpoints off the member's thread. SQLite's automatic
 * checkpoints run inside the commit that crosses 1000 WAL pages: on a member writing 10-15k keys a
 * second that is a checkpoint every fraction of a second on the thread that also runs raft, and
 * measured with the store's own rows (256-byte values, 600-row batches) about 45 % of the commit
 * time per row. With this, the member's connection sets `wal_autocheckpoint = 0` and a thread of
 * its own (checkpoint-thread.ts) runs PASSIVE checkpoints every interval on its own connection.
 *
 * Durability is unchanged: a commit is in the WAL file either way (synchronous=NORMAL), and the
 * member's own TRUNCATE checkpoint before WAL segments are released (`SqliteBackend.checkpoint`)
 * still runs on its thread, with the background thread held off for it ({@link exclusive}). Before
 * the database file is replaced or closed, the thread's connection is closed first ({@link stop}).
 */
import { Worker } from 'node:worker_threads';
import { CheckpointState, type CheckpointThreadData } from './checkpoint-state.js';
import { keepYoungGenerationCap } from '../heap-tuning.js';

/** Default time between background checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 100;
/** Longest the member's thread waits for a running background checkpoint (or for the thread to stop). */
const WAIT_LIMIT_MS = 10_000;

/** Options of a {@link BackgroundCheckpointer}. */
export interface BackgroundCheckpointerOptions {
  intervalMs?: number;
  /** A checkpoint failed for another reason than a concurrent one (reported once per streak). */
  onError?: (message: string) => void;
  /** The thread died: the owner checkpoints by itself again. */
  onThreadLost?: () => void;
}

/** See the module comment. */
export class BackgroundCheckpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private stopped = false;

  constructor(path: string, options: BackgroundCheckpointerOptions = {}) {
    const data: CheckpointThreadData = { path, state: this.state.buffer as SharedArrayBuffer, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS };
    // A small heap: the thread only calls into SQLite.
    this.worker = new Worker(new URL('./checkpoint-thread.js', import.meta.url), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } });
    keepYoungGenerationCap(this.worker);
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) options.onError?.(m.error);
    });
    this.worker.on('error', (err: Error) => {
      // The thread died: checkpoints fall back to the member's own (the compactor's TRUNCATE).
      this.stopped = true;
      options.onError?.(`checkpoint thread failed: ${err.message}`);
      options.onThreadLost?.();
    });
    // After the listeners (adding a message listener refs the worker again): the thread never
    // keeps the process alive by itself.
    this.worker.unref();
  }

  /** Runs `fn` (a checkpoint of the member's thread) while no background checkpoint runs. */
  exclusive<T>(fn: () => T): T {
    if (this.stopped) return fn();
    const held = this.hold();
    try {
      return fn();
    } finally {
      if (held) {
        Atomics.store(this.state, 0, CheckpointState.Idle);
        Atomics.notify(this.state, 0);
      }
    }
  }

  /** Closes the thread's connection and ends the thread; returns once the connection is closed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.hold();
    this.worker.postMessage('stop');
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (Atomics.load(this.state, 0) !== CheckpointState.Stopped && Date.now() < deadline) {
      Atomics.wait(this.state, 0, CheckpointState.Paused, 50);
    }
    if (Atomics.load(this.state, 0) !== CheckpointState.Stopped) void this.worker.terminate();
  }

  /** Takes the state word from Idle to Paused, waiting out a running checkpoint; false if it gave up. */
  private hold(): boolean {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const seen = Atomics.compareExchange(this.state, 0, CheckpointState.Idle, CheckpointState.Paused);
      if (seen === CheckpointState.Idle) return true;
      if (seen !== CheckpointState.Busy || Date.now() > deadline) return false;
      Atomics.wait(this.state, 0, CheckpointState.Busy, 50);
    }
  }
}
