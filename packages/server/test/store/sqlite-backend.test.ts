import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteBackend, Store, StoreStateError } from '../../src/store/index.js';
import { T0 } from './support.js';

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-store-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const everything = (s: Store) => s.get('/', { recursive: true, sorted: true }, T0).event;

function populate(store: Store): void {
  store.set('/a/b/c', { value: 'v' }, T0);
  store.set('/a/b2', { value: 'sibling with a prefix' }, T0);
  store.set('/a b', { value: 'space sorts before slash' }, T0);
  store.set('/t', { value: 'ttl', ttlSeconds: 5 }, T0);
  store.set('/big', { value: 'x'.repeat(2 * 1024 * 1024) }, T0);
  store.set('/u', { value: '\u00e9\u{1F600}&<>' }, T0);
  store.commit({ index: 10, term: 2 });
  store.delete('/a/b', { recursive: true });
  store.set('/d/_h', { value: 'hidden' }, T0);
  store.update('/t', { refresh: true, ttlSeconds: 9 }, T0);
  store.commit({ index: 14, term: 3 });
}

test('a reopened SQLite store recovers keyspace, indexes, applied position and history', () => {
  withTempDir((dir) => {
    const file = join(dir, 'store.db');
    const store = new Store({ backend: new SqliteBackend(file) });
    populate(store);
    const before = everything(store);
    const backend = new SqliteBackend(file);
    // The first connection stays open: a crash leaves it unclosed, and the WAL holds the commits.
    const reopened = new Store({ backend });
    assert.deepEqual(everything(reopened), before);
    assert.equal(reopened.index, 9);
    assert.deepEqual(reopened.applied, { index: 14, term: 3 });
    assert.equal(reopened.get('/big', {}, T0).event.node?.value?.length, 2 * 1024 * 1024);
    assert.equal(reopened.get('/d/_h', {}, T0).event.node?.value, 'hidden');
    assert.deepEqual(reopened.watch('/a/b/c', { sinceIndex: 1 }).take().map((e) => e.index), [1]);
    assert.deepEqual(reopened.watch('/a/b/c', { sinceIndex: 2 }).take().map((e) => `${e.action} ${e.node.key}`), ['delete /a/b']);
    assert.equal(reopened.watch('/t', { sinceIndex: 9 }).closed, false, 'the stored refresh is skipped by the scan');
    assert.deepEqual(reopened.deleteExpiredKeys(T0 + 9000).map((e) => e.node.key), ['/t']);
    assert.ok(existsSync(`${file}-wal`), 'journal_mode is WAL');
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('journal_mode', { simple: true }), 'wal');
    check.close();
    backend.close();
  });
});

test('a delete of a subtree removes exactly its rows', () => {
  withTempDir((dir) => {
    const file = join(dir, 'store.db');
    const store = new Store({ backend: new SqliteBackend(file) });
    for (const k of ['/a/x', '/a/y/z', '/a-b', '/a0', '/ab', '/a b']) store.set(k, { value: k }, T0);
    store.delete('/a', { recursive: true });
    store.commit({ index: 1, term: 1 });
    const reopened = new Store({ backend: new SqliteBackend(file) });
    assert.deepEqual(reopened.get('/', { sorted: true }, T0).event.node?.nodes?.map((n) => n.key), ['/a b', '/a-b', '/a0', '/ab']);
  });
});

test('a checkpoint file restores into another backend and the store reloads from it', () => {
  withTempDir((dir) => {
    const leaderBackend = new SqliteBackend(join(dir, 'leader.db'));
    const leader = new Store({ backend: leaderBackend });
    populate(leader);
    leader.set('/not-yet-committed', { value: 'x' }, T0);
    const snap = join(dir, 'snap.db');
    leaderBackend.checkpointTo(snap);

    const followerBackend = new SqliteBackend(join(dir, 'follower.db'));
    const follower = new Store({ backend: followerBackend });
    follower.set('/old', { value: 'old' }, T0);
    follower.commit({ index: 1, term: 1 });
    const w = follower.watch('/old', {});
    const found = follower.watch('/u', {});
    // The leader's history has /d/_h (hidden): a live recursive watch on /d never gets it.
    const hidden = follower.watch('/d', { recursive: true });
    const stream = follower.watch('/old', { stream: true });
    followerBackend.restoreFrom(snap);
    follower.reload();
    // Long polls outlive the replaced state: answered from its history, or still waiting.
    assert.equal(found.closeReason, 'delivered');
    assert.equal(found.take()[0]?.node.key, '/u');
    assert.equal(w.closed, false, 'nothing for /old in the new history: still waiting');
    assert.equal(hidden.closed, false, 'a hidden key below the watched dir is not given to a live poll');
    assert.equal(stream.closeReason, 'cleared', 'a stream ends (its client resumes by index)');
    assert.equal(follower.index, 9);
    assert.deepEqual(follower.applied, { index: 14, term: 3 });
    assert.throws(() => follower.get('/not-yet-committed', {}, T0));
    assert.throws(() => follower.get('/old', {}, T0));
    const { event } = leader.get('/u', {}, T0);
    assert.deepEqual(follower.get('/u', {}, T0).event, event);
    follower.set('/after', { value: 'a' }, T0);
    follower.commit({ index: 15, term: 3 });
    follower.set('/old', { value: 'again' }, T0);
    assert.equal(w.take()[0]?.node.value, 'again', 'the waiting long poll gets the next event on its key');
    follower.commit({ index: 16, term: 3 });
    followerBackend.close();
    const again = new Store({ backend: new SqliteBackend(join(dir, 'follower.db')) });
    assert.equal(again.get('/after', {}, T0).event.node?.modifiedIndex, 10);
    assert.deepEqual(again.watch('/u', { sinceIndex: 1 }).take().map((e) => e.index), [6]);
  });
});

test('restoring from a file that is not a store snapshot fails without touching the database', () => {
  withTempDir((dir) => {
    const backend = new SqliteBackend(join(dir, 'store.db'));
    const store = new Store({ backend });
    store.set('/keep', { value: 'k' }, T0);
    store.commit({ index: 1, term: 1 });
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not sqlite at all');
    assert.throws(() => backend.restoreFrom(junk), (e: unknown) => e instanceof StoreStateError && e.code === 'INVALID_SNAPSHOT');
    assert.equal(store.get('/keep', {}, T0).event.node?.value, 'k');
    store.set('/more', { value: 'm' }, T0);
    store.commit({ index: 2, term: 1 });
  });
});

test('a database of another schema version is refused', () => {
  withTempDir((dir) => {
    const file = join(dir, 'store.db');
    new SqliteBackend(file).close();
    const db = new Database(file);
    db.exec('UPDATE schema_version SET version = 99');
    db.close();
    assert.throws(() => new SqliteBackend(file), (e: unknown) => e instanceof StoreStateError && e.code === 'SCHEMA_VERSION_MISMATCH');
  });
});

test('a restore from a leader snapshot records the snapshot index and the applied index it arrived with', () => {
  withTempDir((dir) => {
    const leaderBackend = new SqliteBackend(join(dir, 'leader.db'));
    const leader = new Store({ backend: leaderBackend });
    populate(leader);
    const snap = join(dir, 'snap.db');
    leaderBackend.checkpointTo(snap);
    const followerBackend = new SqliteBackend(join(dir, 'follower.db'));
    assert.equal(followerBackend.restoredFrom(), undefined);
    followerBackend.restoreFrom(snap, 12);
    assert.deepEqual(followerBackend.restoredFrom(), { snapshotIndex: 12, appliedIndex: 14 });
    followerBackend.close();
    leaderBackend.close();
    const reopened = new SqliteBackend(join(dir, 'follower.db'));
    assert.deepEqual(reopened.restoredFrom(), { snapshotIndex: 12, appliedIndex: 14 }, 'durable with the restored file');
    reopened.close();
  });
});

test('with quickCheck, a damaged database is refused at open with DATABASE_DAMAGED naming the file', () => {
  withTempDir((dir) => {
    const path = join(dir, 'state.db');
    const backend = new SqliteBackend(path);
    populate(new Store({ backend }));
    backend.close();
    const bytes = readFileSync(path);
    bytes[20]! ^= 0x10; // the header's reserved-space byte: opens, then fails at the first write
    writeFileSync(path, bytes);
    assert.throws(() => new SqliteBackend(path, { quickCheck: true }), (err: unknown) => (
      err instanceof StoreStateError && err.code === 'DATABASE_DAMAGED' && err.message.includes(path) && !err.message.includes('\n')
    ));
    writeFileSync(path, Buffer.alloc(bytes.length));
    assert.throws(() => new SqliteBackend(path, { quickCheck: true }), (err: unknown) => err instanceof StoreStateError && err.code === 'DATABASE_DAMAGED');
  });
});

test('a checkpoint file written on a thread holds the committed state while writes go on, and restores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-sqlite-'));
  try {
    const leaderBackend = new SqliteBackend(join(dir, 'leader.db'));
    const leader = new Store({ backend: leaderBackend });
    populate(leader);
    const snap = join(dir, 'snap.db');
    const copying = leaderBackend.checkpointToInThread(snap);
    // The member's thread goes on while the copy is made.
    leader.set('/during', { value: 'd' }, T0);
    leader.commit({ index: 15, term: 3 });
    await copying;
    assert.equal(existsSync(`${snap}.tmp`), false, 'the temporary file was renamed');
    SqliteBackend.assertSnapshotFile(snap);

    const followerBackend = new SqliteBackend(join(dir, 'follower.db'));
    const follower = new Store({ backend: followerBackend });
    followerBackend.restoreFrom(snap);
    follower.reload();
    const { event } = leader.get('/u', {}, T0);
    assert.deepEqual(follower.get('/u', {}, T0).event, event);
    // The copy is of one committed state: with its own applied index, the write it missed or not.
    const applied = follower.applied.index;
    assert.ok(applied === 14 || applied === 15, `applied ${applied}`);
    assert.equal(applied === 15, follower.index === leader.index);
    followerBackend.close();
    // The thread closed its connection: the leader's file can be replaced or closed.
    leaderBackend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint on a thread into a directory that does not exist fails and leaves nothing behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-sqlite-'));
  try {
    const backend = new SqliteBackend(join(dir, 'a.db'));
    populate(new Store({ backend }));
    await assert.rejects(backend.checkpointToInThread(join(dir, 'missing', 'snap.db')));
    backend.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a consumed restore takes the snapshot file (no copy), and a try that took it but could not finish is resumed', () => {
  withTempDir((dir) => {
    const leaderBackend = new SqliteBackend(join(dir, 'leader.db'));
    const leader = new Store({ backend: leaderBackend });
    populate(leader);
    const expected = everything(leader);
    const snap = join(dir, 'snap.db');
    leaderBackend.checkpointTo(snap);
    leaderBackend.close();

    const followerBackend = new SqliteBackend(join(dir, 'follower.db'));
    const follower = new Store({ backend: followerBackend });
    followerBackend.restoreFrom(snap, 12, { consume: true });
    follower.reload();
    assert.equal(existsSync(snap), false, 'the received file was taken');
    assert.deepEqual(everything(follower), expected);
    assert.deepEqual(followerBackend.restoredFrom(), { snapshotIndex: 12, appliedIndex: 14 });
    followerBackend.close();

    // A try that renamed the file into place and then failed (a full disk at the mark) left it as
    // the restore's tmp: the next try goes on from there.
    const again = join(dir, 'again.db');
    const replay = new SqliteBackend(join(dir, 'leader.db'));
    replay.checkpointTo(again);
    replay.close();
    const secondBackend = new SqliteBackend(join(dir, 'second.db'));
    const second = new Store({ backend: secondBackend });
    writeFileSync(join(dir, 'second.db.restore.tmp'), readFileSync(again));
    rmSync(again);
    secondBackend.restoreFrom(again, 12, { consume: true });
    second.reload();
    assert.deepEqual(everything(second), expected);
    secondBackend.close();
  });
});

test('a state whose rows lie in the table with children before their parents loads whole', () => {
  withTempDir((dir) => {
    const file = join(dir, 'store.db');
    const backend = new SqliteBackend(file);
    const store = new Store({ backend });
    populate(store);
    store.set('/deep/a/b/c/d/e', { value: 'leaf' }, T0);
    store.set('/deep/a/b/x', { dir: true }, T0);
    store.commit({ index: 20, term: 3 });
    const before = everything(store);
    backend.close();
    // Put the rows back in reverse path order: every child's row now precedes its parent's.
    const db = new Database(file);
    db.exec('CREATE TABLE reordered AS SELECT * FROM nodes; DELETE FROM nodes; INSERT INTO nodes SELECT * FROM reordered ORDER BY path DESC; DROP TABLE reordered;');
    const first = db.prepare('SELECT path FROM nodes ORDER BY rowid LIMIT 1').get() as { path: string };
    db.close();
    assert.equal(first.path, '/u', 'the table starts with the last path now');
    const reopenedBackend = new SqliteBackend(file);
    assert.deepEqual(everything(new Store({ backend: reopenedBackend })), before);
    reopenedBackend.close();
  });
});

test('a state database this process may not write is refused at open, naming it (SQLite would open it read-only and fail at the first commit)', () => {
  withTempDir((dir) => {
    const file = join(dir, 'state.db');
    const backend = new SqliteBackend(file);
    const store = new Store({ backend });
    store.set('/a', { value: '1' }, T0);
    store.commit({ index: 1, term: 1 });
    backend.close();
    chmodSync(file, 0o400);
    // Root writes any file: the open runs as nobody there, in a child process.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chownSync(dir, 65534, 65534);
      chownSync(file, 65534, 65534);
    }
    const script = `import('${new URL('../../src/store/index.js', import.meta.url).href}').then(({ SqliteBackend }) => {
      try { new SqliteBackend(${JSON.stringify(file)}).close(); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }
    })`;
    const args = ['node', '--input-type=module', '-e', script];
    const run = asRoot
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...args], { encoding: 'utf8' })
      : spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^DATABASE_UNUSABLE state database ${file} cannot be used: attempt to write a readonly database`));
  });
});

test("a restore's file left by a crash before it was renamed into place is removed when the database is opened", () => {
  withTempDir((dir) => {
    const file = join(dir, 'state.db');
    writeFileSync(`${file}.restore.tmp`, 'a crashed restore');
    const backend = new SqliteBackend(file);
    assert.equal(existsSync(`${file}.restore.tmp`), false);
    backend.close();
  });
});
