/**
 * Writes one snapshot file (see snapshot-copy.ts): `VACUUM INTO` from a read-only connection of
 * its own, then fsync.
 */
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { SnapshotCopyData, SnapshotCopyOutcome } from './snapshot-copy.js';

const { source, target } = workerData as SnapshotCopyData;
let outcome: SnapshotCopyOutcome;
try {
  // Read-only: such a connection never checkpoints the WAL or deletes it at its close (it cannot
  // take the write lock), so even one that outlives a replaced file cannot harm the new one.
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5_000 });
  try {
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  const fd = openSync(target, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  outcome = { ok: true };
} catch (err) {
  outcome = { ok: false, message: (err as Error).message, code: (err as { code?: unknown }).code };
}
parentPort!.postMessage(outcome);
