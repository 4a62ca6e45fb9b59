/**
 * The thread that checkpoints the state database's SQLite WAL (see background-checkpointer.ts):
 * its own connection to the file, a PASSIVE checkpoint every interval (copying committed pages
 * from the WAL into the database file without waiting for, or blocking, the member's writes), and
 * nothing else. The shared state word says who may checkpoint: this thread only while it holds it
 * (IDLE → BUSY), the member's thread for its own TRUNCATE checkpoints (IDLE → PAUSED).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { CheckpointState, type CheckpointThreadData } from './checkpoint-state.js';

const { path, state: shared, intervalMs } = workerData as CheckpointThreadData;
const state = new Int32Array(shared);
const db = new Database(path, { timeout: 0 });
db.pragma('synchronous = NORMAL');
let reported = false;

const timer = setInterval(() => {
  if (Atomics.compareExchange(state, 0, CheckpointState.Idle, CheckpointState.Busy) !== CheckpointState.Idle) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    reported = false;
  } catch (err) {
    // SQLITE_BUSY: another checkpoint ran; anything else (a full disk) is told once per streak.
    const code = (err as { code?: string }).code;
    if (code !== 'SQLITE_BUSY' && !reported) {
      reported = true;
      parentPort!.postMessage({ error: (err as Error).message, code });
    }
  } finally {
    Atomics.store(state, 0, CheckpointState.Idle);
    Atomics.notify(state, 0);
  }
}, intervalMs);

parentPort!.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  // Closed before the member's thread goes on: a connection closing later could find itself the
  // last one on the file and delete a WAL that a newer connection uses.
  try {
    db.close();
  } finally {
    Atomics.store(state, 0, CheckpointState.Stopped);
    Atomics.notify(state, 0);
    parentPort!.close();
  }
});
