/**
 * The prepared statements of one connection to a state database, and the writes of one batch
 * through them. Shared by the member's own connection (sqlite-backend.ts) and the writer thread's
 * (db-writer-thread.ts), so both write exactly the same rows.
 */
import type Database from 'better-sqlite3';
import type { StoreMeta } from './store-backend.js';
import { BatchOp, type EncodedBatch } from './db-writer-protocol.js';

/** The prepared statements of one open connection. */
export class Statements {
  readonly getMeta: Database.Statement;
  readonly putMeta: Database.Statement;
  readonly allNodes: Database.Statement;
  readonly putNode: Database.Statement;
  readonly deleteNode: Database.Statement;
  readonly deleteRange: Database.Statement;
  readonly readEvents: Database.Statement;
  readonly putEvent: Database.Statement;
  readonly pruneEvents: Database.Statement;

  constructor(db: Database.Database) {
    this.getMeta = db.prepare('SELECT name, value FROM meta');
    this.putMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    this.allNodes = db.prepare('SELECT path, dir, value, created_index, modified_index, expire_at_ms FROM nodes ORDER BY path');
    this.putNode = db.prepare(`INSERT INTO nodes (path, dir, value, created_index, modified_index, expire_at_ms)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET dir = excluded.dir, value = excluded.value,
      created_index = excluded.created_index, modified_index = excluded.modified_index, expire_at_ms = excluded.expire_at_ms`);
    this.deleteNode = db.prepare('DELETE FROM nodes WHERE path = ?');
    // Every path below `p` lies in [p + '/', p + '0') under bytewise (BINARY) order: '0' follows '/'.
    this.deleteRange = db.prepare('DELETE FROM nodes WHERE path >= ? AND path < ?');
    this.readEvents = db.prepare('SELECT event FROM events WHERE idx >= ? ORDER BY idx LIMIT ?');
    this.putEvent = db.prepare('INSERT INTO events (idx, event) VALUES (?, ?)');
    this.pruneEvents = db.prepare('DELETE FROM events WHERE idx < ?');
  }

  putRow(path: string, dir: boolean, value: string | null, createdIndex: number, modifiedIndex: number, expireAtMs: number | null): void {
    this.putNode.run(path, dir ? 1 : 0, value, createdIndex, modifiedIndex, expireAtMs);
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
    for (let i = 0; i < events.length; i += 2) this.putEvent.run(events[i] as number, events[i + 1] as string);
    this.pruneEvents.run(batch.historyStartIndex);
    this.writeMeta(batch);
  }
}
