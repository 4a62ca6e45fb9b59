import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { preloadTree, SqliteBackend, Store, StoreStateError } from '../../src/store/index.js';
import { SnapshotPreloads } from '../../src/member/snapshot-preloads.js';
import { T0 } from './support.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-preload-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const everything = (s: Store) => s.get('/', { recursive: true, sorted: true }, T0).event;

/** A leader's state with dirs, files and TTLs, some rows before their parent's in the file. */
function leaderSnapshot(dir: string): { file: string; leader: Store } {
  const backend = new SqliteBackend(join(dir, 'leader.db'));
  const leader = new Store({ backend });
  for (let i = 0; i < 40; i++) leader.set(`/d${i % 4}/sub/k${i}`, { value: `v${i}` }, T0);
  leader.set('/ttl/a', { value: 'a', ttlSeconds: 5 }, T0);
  leader.set('/ttl/b', { value: 'b', ttlSeconds: 2 }, T0);
  leader.set('/ttl/dir', { dir: true, ttlSeconds: 3 }, T0);
  leader.set('/late/x', { value: 'x' }, T0);
  leader.commit({ index: 20, term: 2 });
  // Deleted and made again: its dir row now comes after rows of other dirs in the table.
  leader.delete('/d0', { recursive: true });
  leader.set('/d0/again/y', { value: 'y' }, T0);
  leader.commit({ index: 21, term: 2 });
  const file = join(dir, 'snap.db');
  backend.checkpointTo(file);
  // Rows before their parent's: /d1 and /d1/sub written again, so they come last in rowid order.
  const db = new Database(file);
  db.exec(`CREATE TEMP TABLE moved AS SELECT * FROM nodes WHERE path IN ('/d1', '/d1/sub') ORDER BY path DESC;
    DELETE FROM nodes WHERE path IN ('/d1', '/d1/sub'); INSERT INTO nodes SELECT * FROM moved;`);
  assert.ok((db.prepare("SELECT rowid FROM nodes WHERE path = '/d1'").pluck().get() as number) > (db.prepare("SELECT rowid FROM nodes WHERE path = '/d1/sub/k1'").pluck().get() as number));
  db.close();
  return { file, leader };
}

function follower(dir: string): { backend: SqliteBackend; store: Store } {
  const backend = new SqliteBackend(join(dir, 'follower.db'));
  const store = new Store({ backend });
  store.set('/old', { value: 'old' }, T0);
  store.set('/oldttl', { value: 'o', ttlSeconds: 1 }, T0);
  store.commit({ index: 1, term: 1 });
  return { backend, store };
}

test('a tree read in steps from a snapshot file is the state a load of the file gives, TTLs included', async () => {
  await withTempDir(async (dir) => {
    const { file, leader } = leaderSnapshot(dir);
    let turns = 0;
    const counter = setInterval(() => turns++, 0);
    const tree = await preloadTree(file, { rowsPerStep: 3 });
    clearInterval(counter);
    assert.ok(turns > 0, 'the event loop ran between the steps');
    const f = follower(dir);
    f.backend.restoreFrom(file, 21);
    f.store.reload(tree);
    assert.deepEqual(everything(f.store), everything(leader));
    assert.equal(f.store.index, leader.index);
    assert.throws(() => f.store.get('/old', {}, T0));
    // The TTL heap moved with the nodes: expiry order is the leader's, the old TTL is gone.
    assert.deepEqual(f.store.deleteExpiredKeys(T0 + 10_000).map((e) => e.node.key), ['/ttl/b', '/ttl/dir', '/ttl/a']);
    assert.deepEqual(leader.deleteExpiredKeys(T0 + 10_000).map((e) => e.node.key), ['/ttl/b', '/ttl/dir', '/ttl/a']);
    // The adopted tree is the store's own: writes and a reopen agree.
    f.store.set('/d1/sub/new', { value: 'n' }, T0);
    f.store.commit({ index: 22, term: 2 });
    f.backend.close();
    const again = new Store({ backend: new SqliteBackend(join(dir, 'follower.db')) });
    assert.deepEqual(everything(again), everything(f.store));
  });
});

test('a damaged row or a tree with a missing parent rejects the read, naming the file', async () => {
  await withTempDir(async (dir) => {
    const { file } = leaderSnapshot(dir);
    const db = new Database(file);
    db.prepare("UPDATE nodes SET value = 'changed' WHERE path = '/late/x'").run();
    db.close();
    await assert.rejects(preloadTree(file, { rowsPerStep: 4 }), (e: unknown) => e instanceof StoreStateError && e.code === 'DATABASE_DAMAGED' && e.message.includes(file) && e.message.includes('/late/x'));

    const { file: second } = leaderSnapshot(mkdtempSync(join(dir, 'b-')));
    const db2 = new Database(second);
    db2.prepare("DELETE FROM nodes WHERE path = '/ttl'").run();
    db2.close();
    await assert.rejects(preloadTree(second, { rowsPerStep: 4 }), (e: unknown) => e instanceof StoreStateError && e.code === 'INVALID_SNAPSHOT' && e.message.includes(second));
  });
});

test('an aborted read stops at its next step', async () => {
  await withTempDir(async (dir) => {
    const { file } = leaderSnapshot(dir);
    const abort = new AbortController();
    const read = preloadTree(file, { rowsPerStep: 2, signal: abort.signal });
    abort.abort();
    await assert.rejects(read, { name: 'AbortError' });
  });
});

test('preloads: the install takes the tree of its own file only; a newer read supersedes; close lets go', async () => {
  await withTempDir(async (dir) => {
    const { file } = leaderSnapshot(dir);
    const preloads = new SnapshotPreloads(2);
    await preloads.prepare(file);
    assert.equal(preloads.take(join(dir, 'other.db')), undefined, 'another file: nothing');
    assert.equal(preloads.take(file), undefined, 'what was prepared was let go by the take before');
    await preloads.prepare(file);
    assert.ok(preloads.take(file) !== undefined);

    const first = preloads.prepare(file);
    const second = preloads.prepare(file);
    await first; // superseded: resolves, nothing kept from it
    await second;
    assert.ok(preloads.take(file) !== undefined, 'the newer read is kept');

    const running = preloads.prepare(file);
    preloads.close();
    await running;
    assert.equal(preloads.take(file), undefined);
    await preloads.prepare(file);
    assert.equal(preloads.take(file), undefined, 'closed: prepares nothing');

    const noRoom = new SnapshotPreloads(2, () => false);
    await noRoom.prepare(file);
    assert.equal(noRoom.take(file), undefined, 'no heap room beside the state in use: the install loads the file itself');
  });
});
