/**
 * The SQLite `StoreBackend` (better-sqlite3): the tree as one row per node, the event history
 * window, and the store index / applied raft position, each batch in one transaction
 * (WAL journal, synchronous=FULL: a committed batch survives power loss).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreEvent } from './event.js';
import { EMPTY_META } from './store-backend.js';
import type {
  BackendBatch, BackendReplacement, BackendState, NodeChange, NodeRow, StoreBackend, StoreMeta,
} from './store-backend.js';
import { SqliteThreadError, StoreStateError } from './store-errors.js';
import { BackgroundCheckpointer } from './background-checkpointer.js';
import { DatabaseWriter } from './db-writer.js';
import { encodeBatch, type EncodedBatch } from './db-writer-protocol.js';
import { PAGE_CACHE_KIB } from './sqlite-pragmas.js';
import { copyStateInThread } from './snapshot-copy.js';
import { ROW_SUMS_META, Statements } from './sqlite-statements.js';
import { eventRowSum, nodeRowSum } from './row-sum.js';

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
  path TEXT PRIMARY KEY, dir INTEGER NOT NULL, value TEXT,
  created_index INTEGER NOT NULL, modified_index INTEGER NOT NULL, expire_at_ms INTEGER, sum INTEGER);
CREATE TABLE IF NOT EXISTS events (idx INTEGER PRIMARY KEY, event TEXT NOT NULL, sum INTEGER);
`;

/** Options of a {@link SqliteBackend}. */
export interface SqliteBackendOptions {
  synchronous?: 'FULL' | 'NORMAL';
  quickCheck?: boolean;
  /** WAL checkpoints on a thread of their own (background-checkpointer.ts); not with `writerThread`. */
  checkpointThread?: boolean;
  onCheckpointError?: (message: string) => void;
  /** Batch commits (and their checkpoints) on a thread of their own (db-writer.ts). */
  writerThread?: boolean;
  /** A batch the writer thread could not commit (SQLITE_FULL); it stays queued for the next {@link SqliteBackend.drain}. */
  onWriterError?: (err: SqliteThreadError) => void;
  /** A write-behind batch was committed (here or on the writer thread), taking this long. */
  onCommit?: (seconds: number) => void;
}

/** A node row as `allNodesRaw` gives it (the columns of `NodeRowSql`, in order). */
type NodeRowRaw = [string, number, string | null, number, number, number | null, number | null];

interface NodeRowSql {
  path: string;
  dir: number;
  value: string | null;
  created_index: number;
  modified_index: number;
  expire_at_ms: number | null;
  sum: number | null;
}

/** A short, printable form of a path read from a possibly damaged row. */
function quotePath(path: unknown): string {
  const text = JSON.stringify(typeof path === 'string' ? path : String(path));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Adds the `sum` column to the tables of a file made before rows had sums (the same schema
 * version: builds that keep no sums read and write such a file as before, leaving sums stale,
 * which {@link SqliteBackend} then makes again).
 */
function addSumColumns(db: Database.Database): void {
  for (const table of ['nodes', 'events']) {
    const columns = db.pragma(`table_info(${table})`) as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'sum')) db.exec(`ALTER TABLE ${table} ADD COLUMN sum INTEGER`);
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads and checks the schema version of an open database (writing it when fresh). */
function checkSchema(db: Database.Database, writable: boolean): void {
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  if (row === undefined && writable) {
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    return;
  }
  if (row?.version !== SCHEMA_VERSION) {
    throw new StoreStateError('SCHEMA_VERSION_MISMATCH', `store schema version ${row?.version} is not ${SCHEMA_VERSION}`);
  }
}

/** Renames `from` to `to`, or copies it where they are on different file systems (then removes it). */
function takeOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to);
    rmSync(from, { force: true });
  }
}

/** Records in a restored copy (before it is renamed into place) which raft snapshot it came with. */
function markRestored(file: string, snapshotIndex: number): void {
  const db = new Database(file);
  try {
    const applied = db.prepare("SELECT value FROM meta WHERE name = 'applied_index'").get() as { value: number } | undefined;
    const put = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    db.transaction(() => {
      put.run('restored_snapshot_index', snapshotIndex);
      put.run('restored_applied_index', applied?.value ?? 0);
    })();
  } finally {
    db.close();
  }
}

/**
 * A `StoreBackend` in one SQLite file. `checkpointTo` writes a consistent copy of the last
 * committed state (the raft snapshot file); `restoreFrom` replaces this database with such a
 * copy (then call `Store.reload()`).
 */
export class SqliteBackend implements StoreBackend {
  /** The database file. */
  readonly path: string;
  private db!: Database.Database;
  private sql!: Statements;

  private readonly synchronous: 'FULL' | 'NORMAL';
  private readonly checkpointThread: boolean;
  private readonly onCheckpointError: ((message: string) => void) | undefined;
  private background: BackgroundCheckpointer | undefined;
  private readonly writerThread: boolean;
  private readonly onWriterError: ((err: SqliteThreadError) => void) | undefined;
  private readonly onCommit: ((seconds: number) => void) | undefined;
  private writer: DatabaseWriter | undefined;
  /**
   * Batches a dead writer thread had not committed, committed on this connection before anything
   * else (in the next commit's transaction, or by {@link drain}); kept while that fails.
   */
  private backlog: EncodedBatch[] = [];

  /**
   * Opens (creating if needed) the database at `path`. With `synchronous: 'NORMAL'` a commit is
   * durable against a process crash but not a power loss; the server uses it because its raft WAL
   * is fsynced first and it calls {@link checkpoint} before releasing WAL segments, so anything a
   * power loss takes from the database is replayed from the WAL.
   */
  constructor(path: string, options: SqliteBackendOptions = {}) {
    this.path = path;
    this.synchronous = options.synchronous ?? 'FULL';
    this.writerThread = options.writerThread ?? false;
    this.checkpointThread = (options.checkpointThread ?? false) && !this.writerThread;
    this.onCheckpointError = options.onCheckpointError;
    this.onWriterError = options.onWriterError;
    this.onCommit = options.onCommit;
    // A restore's copy (or taken snapshot file) left by a crash before it was renamed into place:
    // nothing reads it at a start (the leader sends a snapshot again), and it is as big as the state.
    rmSync(`${path}.restore.tmp`, { force: true });
    try {
      this.open();
      if (options.quickCheck) this.quickCheck();
      this.startBackground();
    } catch (err) {
      this.db?.close();
      if (err instanceof StoreStateError || !(err instanceof Database.SqliteError)) throw err;
      // What the file system refused is not damage: say which files to look at.
      if (/^SQLITE_(READONLY|CANTOPEN|IOERR|PERM|AUTH)/.test(err.code)) {
        throw new StoreStateError('DATABASE_UNUSABLE', `state database ${path} cannot be used: ${err.message} (it, ${path}-wal and ${path}-shm must be files this process can write)`);
      }
      throw new StoreStateError('DATABASE_DAMAGED', `state database ${path} is damaged: ${err.message}`);
    }
  }

  /**
   * SQLite's `PRAGMA quick_check` (page structure, record formats, freelist; no index-to-table
   * cross-check): a damaged file would otherwise open, serve what it can and fail at the first
   * write that touches a bad page. Throws `StoreStateError` (`DATABASE_DAMAGED`) naming the file.
   * Reads every page once: measured 35-60 ms for 102k keys (a 17 MB file).
   */
  private quickCheck(): void {
    const rows = this.db.pragma('quick_check(5)') as Array<{ quick_check: string }>;
    const problems = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
    if (problems.length > 0) {
      throw new StoreStateError('DATABASE_DAMAGED', `state database ${this.path} is damaged (quick_check: ${problems.join('; ').replace(/\s+/g, ' ')})`);
    }
  }

  /**
   * Where the state came from if it was last replaced by a leader's snapshot ({@link restoreFrom}
   * with a snapshot index): the raft snapshot index and the applied index the file arrived with.
   * The leader's copy may be ahead of its snapshot's index, so right after such a restore the
   * database is legitimately ahead of this member's log.
   */
  restoredFrom(): { snapshotIndex: number; appliedIndex: number } | undefined {
    const meta: Record<string, number> = {};
    for (const row of this.sql.getMeta.all() as { name: string; value: number }[]) meta[row.name] = row.value;
    if (meta.restored_snapshot_index === undefined || meta.restored_applied_index === undefined) return undefined;
    return { snapshotIndex: meta.restored_snapshot_index, appliedIndex: meta.restored_applied_index };
  }

  /**
   * A SHA-256 over every node (path, kind, value, indexes, expiration) in path order: members that
   * applied the same log have the same hash.
   */
  hashNodes(): { hash: string; nodes: number } {
    this.drain();
    const h = createHash('sha256');
    let nodes = 0;
    for (const row of this.sql.allNodes.iterate() as Iterable<Record<string, unknown>>) {
      h.update(JSON.stringify([row.path, row.dir, row.value, row.created_index, row.modified_index, row.expire_at_ms]));
      h.update('\n');
      nodes++;
    }
    return { hash: h.digest('hex'), nodes };
  }

  /** Makes every committed transaction durable in the main database file (fsync). */
  checkpoint(): void {
    this.drain();
    const run = (): void => void this.db.pragma('wal_checkpoint(TRUNCATE)');
    if (this.background === undefined) run();
    else this.background.exclusive(run);
  }

  /** Whether WAL checkpoints run on a thread of their own now (see background-checkpointer.ts). */
  get checkpointsInBackground(): boolean {
    return this.background !== undefined;
  }

  /** Whether batch commits run on the writer thread now (see db-writer.ts). */
  get commitsInBackground(): boolean {
    return this.writer !== undefined;
  }

  /**
   * Returns once every committed batch is in the database (at once without a writer thread).
   * Throws what stops the writer thread's oldest batch (SQLITE_FULL); it stays queued.
   */
  drain(): void {
    this.writer?.drain();
    // (A writer that turned out dead just now left its batches here.)
    if (this.backlog.length > 0) this.commitHere([]);
  }

  private startBackground(): void {
    if (this.writerThread) return this.startWriter();
    if (!this.checkpointThread) return;
    // The commits of this connection no longer checkpoint; the thread does, beside them.
    this.db.pragma('wal_autocheckpoint = 0');
    const background = new BackgroundCheckpointer(this.path, {
      onError: this.onCheckpointError,
      onThreadLost: () => {
        // Back to SQLite's own checkpoints in this connection's commits (its default, 1000 pages).
        if (this.background !== background) return;
        this.background = undefined;
        this.db.pragma('wal_autocheckpoint = 1000');
      },
    });
    this.background = background;
  }

  private startWriter(): void {
    // Only the thread commits batches now, and its commits checkpoint.
    this.db.pragma('wal_autocheckpoint = 0');
    const writer = new DatabaseWriter(this.path, {
      onError: (err) => this.onWriterError?.(err),
      onCommit: this.onCommit,
      onLost: () => {
        if (this.writer !== writer) return;
        // Back to commits on this connection, starting with what the thread had not committed
        // (in order, before any later batch: a batch skipped would be lost behind a later applied index).
        this.writer = undefined;
        this.db.pragma('wal_autocheckpoint = 1000');
        this.backlog = writer.takeBack();
        this.onWriterError?.(new SqliteThreadError('the state database writer thread died; commits run on the member thread again', 'WRITER_LOST'));
        try {
          this.drain();
        } catch (err) {
          // Kept: the next commit or drain tries again (and throws), as any failed commit here.
          this.onWriterError?.(new SqliteThreadError((err as Error).message, (err as { code?: unknown }).code));
        }
      },
    });
    this.writer = writer;
  }

  private stopBackground(): void {
    this.background?.stop();
    this.background = undefined;
    this.writer?.stop();
    this.writer = undefined;
  }

  load(): BackendState {
    const meta: Record<string, number> = {};
    for (const row of this.sql.getMeta.all() as { name: string; value: number }[]) meta[row.name] = row.value;
    return {
      storeIndex: meta.store_index ?? EMPTY_META.storeIndex,
      historyStartIndex: meta.history_start_index ?? EMPTY_META.historyStartIndex,
      applied: { index: meta.applied_index ?? 0, term: meta.applied_term ?? 0 },
      nodes: this.loadNodes(),
    };
  }

  /**
   * Every node, read lazily in the table's own order (mostly parents first; `Tree.load` places the
   * rest). Reading in path order instead walks the path index and looks each row up in the table,
   * about three times as long (200k keys: ~1.9 s against ~0.6 s), and a member's start and a
   * snapshot install wait for it. Raw rows, since named-column objects cost as much again in
   * allocation; one at a time, so that none outlives its node's creation.
   */
  private *loadNodes(): Generator<NodeRow> {
    for (const r of this.sql.allNodesRaw.iterate() as Iterable<NodeRowRaw>) yield nodeRowOf(r, this.path);
  }

  /**
   * Every node of the state database `file` (a received snapshot), `rowsPerStep` rows at a time in
   * rowid order, on a connection of its own; between two steps the event loop runs (setImmediate),
   * so a member's thread goes on serving raft while a big state is read. Each step is a query of
   * its own, so no statement stays open across the turns. Throws as a load does for a damaged row.
   */
  static async *readNodesInSteps(file: string, rowsPerStep: number, signal?: AbortSignal): AsyncGenerator<NodeRow[]> {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const step = db.prepare('SELECT rowid, path, dir, value, created_index, modified_index, expire_at_ms, sum FROM nodes WHERE rowid > ? ORDER BY rowid LIMIT ?').raw(true);
      let after = -Infinity;
      for (;;) {
        signal?.throwIfAborted();
        const raws = step.all(after, rowsPerStep) as [number, ...NodeRowRaw][];
        if (raws.length === 0) return;
        after = raws[raws.length - 1]![0];
        yield raws.map((r) => nodeRowOf(r.slice(1) as NodeRowRaw, file));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      db.close();
    }
  }

  readEvents(fromIndex: number, limit: number): StoreEvent[] {
    this.drain();
    const rows = this.sql.readEvents.all(fromIndex, limit) as { idx: number; event: string; sum: number | null }[];
    return rows.map((row, i) => {
      if (row.sum !== eventRowSum(row.idx, row.event)) {
        throw new StoreStateError('DATABASE_DAMAGED', `state database ${this.path} is damaged: the event row ${i + 1} from index ${fromIndex} does not match its sum`);
      }
      try {
        return JSON.parse(row.event) as StoreEvent;
      } catch (err) {
        // Text SQLite's checks pass but JSON does not (a file cut short, a changed byte): name the file.
        throw new StoreStateError('DATABASE_DAMAGED', `state database ${this.path} is damaged: the event row ${i + 1} from index ${fromIndex} is not JSON (${(err as Error).message})`);
      }
    });
  }

  commit(batch: BackendBatch): void {
    const encoded = encodeBatch(batch);
    if (this.writer !== undefined) return this.writer.post(encoded);
    this.commitHere([encoded]);
  }

  /** Commits the backlog and `batches` in one transaction on this connection (the thread's same writes). */
  private commitHere(batches: EncodedBatch[]): void {
    const all = this.backlog.length > 0 ? [...this.backlog, ...batches] : batches;
    const started = performance.now();
    this.db.transaction(() => {
      for (const b of all) this.sql.writeEncoded(b);
    })();
    this.onCommit?.((performance.now() - started) / 1000);
    this.backlog = [];
  }

  replaceAll(state: BackendReplacement): void {
    this.drain();
    this.db.transaction(() => {
      this.db.exec('DELETE FROM nodes; DELETE FROM events;');
      for (const row of state.nodes) this.applyChange({ kind: 'put', row });
      for (const event of state.events) this.sql.putEventRow(event.index, JSON.stringify(event));
      this.sql.writeMeta(state);
    })();
  }

  /**
   * Writes a consistent, self-contained copy of the committed state to `file` (VACUUM INTO a
   * temporary file, fsync, atomic rename): the snapshot to send to a follower.
   */
  /**
   * {@link checkpointTo} with the copy made on a thread (snapshot-copy.ts): the member's thread
   * only flushes its write-behind and renames the finished file.
   */
  async checkpointToInThread(file: string): Promise<void> {
    this.drain();
    const tmp = `${file}.tmp`;
    rmSync(tmp, { force: true });
    try {
      await copyStateInThread(this.path, tmp);
    } catch (err) {
      rmSync(tmp, { force: true }); // a full disk must not keep the partial copy's space
      throw err;
    }
    renameSync(tmp, file);
    fsyncPath(dirname(file));
  }

  checkpointTo(file: string): void {
    this.drain();
    const tmp = `${file}.tmp`;
    rmSync(tmp, { force: true });
    try {
      this.db.prepare('VACUUM INTO ?').run(tmp);
      fsyncPath(tmp);
    } catch (err) {
      rmSync(tmp, { force: true }); // a full disk must not keep the partial copy's space
      throw err;
    }
    renameSync(tmp, file);
    fsyncPath(dirname(file));
  }

  /**
   * Replaces this database with a file written by `checkpointTo` (validated first), durably.
   * The caller then calls `Store.reload()`. With `consume`, the file is taken (renamed into place)
   * instead of copied: a received snapshot, removed after its install anyway. A copy of a big state
   * and its fsync held the member's thread for as long again as the install itself (112 MB: ~0.3 s
   * on an idle disk, seconds on a busy one), with the leader waiting for its acknowledgements.
   * With `verified`, the file is not checked again (see below).
   */
  restoreFrom(file: string, snapshotIndex?: number, options: { consume?: boolean; verified?: boolean } = {}): void {
    const tmp = `${this.path}.restore.tmp`;
    // A consumed file that an earlier try already took (and then found no room to mark) is the tmp.
    const resumed = options.consume === true && !existsSync(file) && existsSync(tmp);
    // `verified`: the caller has read every row of the file since it was checked (a preloaded
    // snapshot); the check's table scans took ~0.1 s of the member's thread for 200k keys.
    if (options.verified !== true) SqliteBackend.assertSnapshotFile(resumed ? tmp : file);
    this.drain();
    // The copy or the mark (each needs disk space) is made while this database is still open, so a
    // failure (a full disk) leaves it open and unchanged, and the restore can be tried again.
    try {
      if (options.consume === true) {
        if (!resumed) takeOrCopy(file, tmp);
      } else {
        copyFileSync(file, tmp);
      }
      if (snapshotIndex !== undefined) markRestored(tmp, snapshotIndex);
      fsyncPath(tmp);
    } catch (err) {
      // A consumed file stays as the tmp for the next try; a copy is made again.
      if (options.consume !== true) rmSync(tmp, { force: true });
      throw err;
    }
    // The thread's connection goes first: closing after the files are replaced, it could take
    // itself for the file's last connection and delete the new WAL.
    this.stopBackground();
    this.db.close();
    rmSync(`${this.path}-wal`, { force: true });
    rmSync(`${this.path}-shm`, { force: true });
    renameSync(tmp, this.path);
    fsyncPath(dirname(this.path));
    this.open();
    this.startBackground();
  }

  /** Throws `StoreStateError` unless `file` is a store database of our schema version. */
  static assertSnapshotFile(file: string): void {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      checkSchema(db, false);
      db.prepare('SELECT count(*) FROM nodes').get();
      db.prepare('SELECT count(*) FROM events').get();
    } catch (err) {
      if (err instanceof StoreStateError) throw err;
      throw new StoreStateError('INVALID_SNAPSHOT', `${file} is not a store snapshot: ${(err as Error).message}`);
    } finally {
      db?.close();
    }
  }

  close(): void {
    try {
      this.drain();
    } catch {
      // As with commits on this thread that could not be made: what the writer thread could not
      // commit (a full disk) is in the raft log, which the next start replays from the applied index.
    } finally {
      this.stopBackground();
    }
    this.db.close();
  }

  private open(): void {
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.synchronous}`);
    // (Negative: a size in KiB.)
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    this.db.exec(SCHEMA);
    checkSchema(this.db, true);
    // SQLite opens a file it may not write read-only without a word, and fails at the first
    // write: that would be the first apply, after the member began to serve. A row written and
    // rolled back now finds it (a read-only file or -wal, a -shm that is a directory) before
    // anything is served; taking the write lock alone passes on a read-only state.db.
    this.db.exec("BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta (name, value) VALUES ('write_check', 0); ROLLBACK");
    addSumColumns(this.db);
    this.sql = new Statements(this.db);
    this.makeStaleSums();
  }

  /**
   * Makes every row's sum again when the file was last written without them (made by an older
   * build, or by one downgraded to): its `applied_index` is not the one the last batch with sums
   * recorded. Such rows cannot be checked, only summed as they are now.
   */
  private makeStaleSums(): void {
    const meta: Record<string, number> = {};
    for (const row of this.sql.getMeta.all() as { name: string; value: number }[]) meta[row.name] = row.value;
    if (meta[ROW_SUMS_META] !== undefined && meta[ROW_SUMS_META] === (meta.applied_index ?? 0)) return;
    const nodes = this.db.prepare('SELECT path, dir, value, created_index, modified_index, expire_at_ms FROM nodes').all() as NodeRowSql[];
    const events = this.db.prepare('SELECT idx, event FROM events').all() as { idx: number; event: string }[];
    const putNodeSum = this.db.prepare('UPDATE nodes SET sum = ? WHERE path = ?');
    const putEventSum = this.db.prepare('UPDATE events SET sum = ? WHERE idx = ?');
    this.db.transaction(() => {
      for (const r of nodes) putNodeSum.run(nodeRowSum(r.path, r.dir, r.value, r.created_index, r.modified_index, r.expire_at_ms), r.path);
      for (const e of events) putEventSum.run(eventRowSum(e.idx, e.event), e.idx);
      this.sql.putMeta.run(ROW_SUMS_META, meta.applied_index ?? 0);
    })();
  }

  private applyChange(change: NodeChange): void {
    if (change.kind === 'put') {
      const r = change.row;
      this.sql.putRow(r.path, r.dir, r.value ?? null, r.createdIndex, r.modifiedIndex, r.expireAtMs ?? null);
      return;
    }
    this.sql.deleteTree(change.path);
  }
}

/** A node row from its raw columns, once its sum is checked (`file` names the database in the error). */
function nodeRowOf(r: NodeRowRaw, file: string): NodeRow {
  const [path, dir, value, createdIndex, modifiedIndex, expireAtMs, sum] = r;
  if (sum !== nodeRowSum(path, dir, value, createdIndex, modifiedIndex, expireAtMs)) {
    throw new StoreStateError('DATABASE_DAMAGED', `state database ${file} is damaged: the row of node ${quotePath(path)} does not match its sum`);
  }
  return {
    path,
    dir: dir === 1,
    value: value ?? undefined,
    createdIndex,
    modifiedIndex,
    expireAtMs: expireAtMs ?? undefined,
  };
}
