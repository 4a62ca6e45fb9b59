/**
 * The prepared statements of one connection to a state database, and the writes of one batch
 * through them. Shared by the member's own connection (sqlite-backend.ts) and the writer thread's
 * (db-writer-thread.ts), so both write exactly the same rows.
 */
import type Database from 'better-sqlite3';
import type { StoreMeta } from './store-backend.js';
import { BatchOp, type EncodedBatch } from './db-writer-protocol.js';
import { eventRowSum, nodeRowSum } from './row-sum.js';

/**
 * The meta row that holds the applied index of the last batch written with row sums: a file
 * whose `applied_index` differs was last written by a build that kept no sums (an older one, or
 * one downgraded to), so its sums are made again instead of checked (see sqlite-backend.ts).
 */
export const ROW_SUMS_META = 'row_sums_index';

/** The prepared statements of one open connection. */
export class Statements {
  readonly getMeta: Database.Statement;
  readonly putMeta: Database.Statement;
  readonly allNodes: Database.Statement;
  /** Every node in the table's own order, as arrays (the fast whole-tree load). */
  readonly allNodesRaw: Database.Statement;
  readonly putNode: Database.Statement;
  readonly deleteNode: Database.Statement;
  readonly deleteRange: Database.Statement;
  readonly readEvents: Database.Statement;
  private readonly putEvent: Database.Statement;
  readonly pruneEvents: Database.Statement;

  constructor(db: Database.Database) {
    this.getMeta = db.prepare('SELECT name, value FROM meta');
    this.putMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    this.allNodes = db.prepare('SELECT path, dir, value, created_index, modified_index, expire_at_ms, sum FROM nodes ORDER BY path');
    this.allNodesRaw = db.prepare('SELECT path, dir, value, created_index, modified_index, expire_at_ms, sum FROM nodes').raw(true);
    this.putNode = db.prepare(`INSERT INTO nodes (path, dir, value, created_index, modified_index, expire_at_ms, sum)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET dir = excluded.dir, value = excluded.value,
      created_index = excluded.created_index, modified_index = excluded.modified_index, expire_at_ms = excluded.expire_at_ms,
      sum = excluded.sum`);
    this.deleteNode = db.prepare('DELETE FROM nodes WHERE path = ?');
    // Every path below `p` lies in [p + '/', p + '0') under bytewise (BINARY) order: '0' follows '/'.
    this.deleteRange = db.prepare('DELETE FROM nodes WHERE path >= ? AND path < ?');
    this.readEvents = db.prepare('SELECT idx, event, sum FROM events WHERE idx >= ? ORDER BY idx LIMIT ?');
    this.putEvent = db.prepare('INSERT INTO events (idx, event, sum) VALUES (?, ?, ?)');
    this.pruneEvents = db.prepare('DELETE FROM events WHERE idx < ?');
  }

  putRow(path: string, dir: boolean, value: string | null, createdIndex: number, modifiedIndex: number, expireAtMs: number | null): void {
    const d = dir ? 1 : 0;
    this.putNode.run(path, d, value, createdIndex, modifiedIndex, expireAtMs, nodeRowSum(path, d, value, createdIndex, modifiedIndex, expireAtMs));
  }

  putEventRow(index: number, event: string): void {
    this.putEvent.run(index, event, eventRowSum(index, event));
  }

  /** Removes the node at `path` and everything below it. */
  deleteTree(path: string): void {
    this.deleteNode.run(path);
    this.deleteRange.run(`${path}/`, `${path}0`);
  }

  writeMeta(meta: StoreMeta): void {
    this.putMeta.run('store_index', meta.storeIndex);
    this.putMeta.run('history_start_index', meta.historyStartIndex);
    this.putMeta.run('applied_index', meta.applied.index);
    this.putMeta.run('applied_term', meta.applied.term);
    this.putMeta.run(ROW_SUMS_META, meta.applied.index);
  }

  /** Writes one encoded batch (call inside a transaction). */
  writeEncoded(batch: EncodedBatch): void {
    const ops = batch.ops;
    for (let i = 0; i < ops.length;) {
      if (ops[i] === BatchOp.Put) {
        this.putRow(ops[i + 1] as string, ops[i + 2] === 1, ops[i + 3] as string | null, ops[i + 4] as number, ops[i + 5] as number, ops[i + 6] as number | null);
        i += 7;
      } else {
        this.deleteTree(ops[i + 1] as string);
        i += 2;
      }
    }
    const events = batch.events;
    for (let i = 0; i < events.length; i += 2) this.putEventRow(events[i] as number, events[i + 1] as string);
    this.pruneEvents.run(batch.historyStartIndex);
    this.writeMeta(batch);
  }
}
