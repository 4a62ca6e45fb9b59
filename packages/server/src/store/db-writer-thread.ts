/**
 * The state database's writer thread (see db-writer.ts): its own connection to the file, one
 * transaction per posted batch, in order. A batch that fails (SQLITE_FULL on a full disk) stays at
 * the head of the queue with every later one; the failure is reported on the errors port (which
 * also carries each commit's duration, for etcd_disk_backend_commit_duration_seconds) and the
 * thread tries again when told to (`retry`), never on its own, so a full disk costs one failed
 * transaction per retry of the member's NOSPACE alarm.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { Statements } from './sqlite-statements.js';
import { WriterWord, type EncodedBatch, type WriterMessage, type WriterThreadData } from './db-writer-protocol.js';
import { PAGE_CACHE_KIB } from './sqlite-pragmas.js';

const { path, state: shared, errors } = workerData as WriterThreadData;
const state = new Int32Array(shared);
const db = new Database(path, { timeout: 5000 });
db.pragma('synchronous = NORMAL');
db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
// This connection's commits checkpoint the WAL now and then (SQLite's default, 1000 pages), here
// and not on the member's thread.
db.pragma('wal_autocheckpoint = 1000');
const sql = new Statements(db);
const commit = db.transaction((batch: EncodedBatch) => sql.writeEncoded(batch));
const queue: EncodedBatch[] = [];
let failing = false;

function pump(): void {
  while (queue.length > 0) {
    const started = performance.now();
    try {
      commit(queue[0]!);
    } catch (err) {
      failing = true;
      // The message first: a member that sees the failure count move finds it on the port.
      errors.postMessage({ message: (err as Error).message, code: (err as { code?: unknown }).code });
      Atomics.add(state, WriterWord.Failures, 1);
      Atomics.notify(state, WriterWord.Committed);
      return;
    }
    failing = false;
    errors.postMessage({ commitSeconds: (performance.now() - started) / 1000 });
    queue.shift();
    Atomics.add(state, WriterWord.Committed, 1);
    Atomics.notify(state, WriterWord.Committed);
  }
}

parentPort!.on('message', (m: WriterMessage) => {
  if (m === 'stop') {
    try {
      db.close();
    } finally {
      Atomics.store(state, WriterWord.Stopped, 1);
      Atomics.notify(state, WriterWord.Committed);
      parentPort!.close();
      errors.close();
    }
    return;
  }
  if (m === 'retry') return pump();
  queue.push(m.batch);
  if (!failing) pump();
});
