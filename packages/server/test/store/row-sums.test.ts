import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteBackend, Store, StoreStateError } from '../../src/store/index.js';
import { eventRowSum, nodeRowSum } from '../../src/store/row-sum.js';
import { T0, withTempDir } from './support.js';

const MARK = 'marker-0123456789-marker';

/** A closed database (its WAL checkpointed into the file) holding MARK in a value and in an event. */
function writeMarked(file: string): void {
  const backend = new SqliteBackend(file);
  const store = new Store({ backend });
  store.set('/first', { value: 'one' }, T0);
  store.set('/marked', { value: MARK }, T0);
  store.set('/last', { value: 'three' }, T0);
  store.commit({ index: 5, term: 1 });
  backend.close();
}

/**
 * Changes one byte of MARK in the file, as a bad sector or a stray write would: in the node's row,
 * or in the event's JSON (where it follows `"value":"`).
 */
function flipInMark(file: string, inEvent: boolean): void {
  const bytes = readFileSync(file);
  let at = -1;
  do {
    at = bytes.indexOf(MARK, at + 1);
    assert.ok(at >= 0, `the marker is in the file ${inEvent ? 'inside an event' : 'as a node row'}`);
  } while ((bytes.subarray(at - 9, at).toString('latin1') === '"value":"') !== inEvent);
  bytes[at + 10] ^= 0x01; // '4' becomes '5': still valid text, so only the sum can see it
  writeFileSync(file, bytes);
}

function damagedError(fn: () => unknown): StoreStateError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StoreStateError, `a StoreStateError, got ${String(err)}`);
    return err;
  }
  assert.fail('no error');
}

test('a value changed by one byte in the file is refused at load, naming the file and the node', async () => {
  await withTempDir('deimos-sums-', async (dir) => {
    const file = join(dir, 'state.db');
    writeMarked(file);
    flipInMark(file, false);
    const err = damagedError(() => new Store({ backend: new SqliteBackend(file) }));
    assert.equal(err.code, 'DATABASE_DAMAGED');
    assert.match(err.message, new RegExp(`state database ${file} is damaged: the row of node "/marked"`));
  });
});

test('an event changed by one byte in the file is refused when the history is read (at start: the store reads the recent events)', async () => {
  await withTempDir('deimos-sums-', async (dir) => {
    const file = join(dir, 'state.db');
    writeMarked(file);
    flipInMark(file, true);
    const backend = new SqliteBackend(file);
    assert.equal([...backend.load().nodes].find((n) => n.path === '/marked')?.value, MARK, 'the tree row is intact');
    const err = damagedError(() => new Store({ backend }));
    assert.equal(err.code, 'DATABASE_DAMAGED');
    assert.match(err.message, new RegExp(`state database ${file} is damaged: the event row 2 from index 1 does not match its sum`));
    backend.close();
  });
});

/** A database as builds without row sums made it: no `sum` columns. */
function writeWithoutSums(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE nodes (path TEXT PRIMARY KEY, dir INTEGER NOT NULL, value TEXT,
      created_index INTEGER NOT NULL, modified_index INTEGER NOT NULL, expire_at_ms INTEGER);
    CREATE TABLE events (idx INTEGER PRIMARY KEY, event TEXT NOT NULL);
    INSERT INTO meta VALUES ('store_index', 1), ('history_start_index', 1), ('applied_index', 3), ('applied_term', 1);
    INSERT INTO nodes VALUES ('/old', 0, 'kept', 1, 1, NULL);
  `);
  db.prepare('INSERT INTO events VALUES (1, ?)').run(JSON.stringify({
    action: 'set', node: { key: '/old', value: 'kept', modifiedIndex: 1, createdIndex: 1 }, index: 1,
  }));
  db.close();
}

test('a database from a build without row sums opens, gets its sums, and is checked from then on', async () => {
  await withTempDir('deimos-sums-', async (dir) => {
    const file = join(dir, 'state.db');
    writeWithoutSums(file);
    let backend = new SqliteBackend(file);
    let store = new Store({ backend });
    assert.equal(store.get('/old', {}, T0).event.node?.value, 'kept');
    assert.deepEqual(store.watch('/old', { sinceIndex: 1 }).take().map((e) => e.index), [1]);
    backend.close();
    const db = new Database(file);
    const row = db.prepare("SELECT sum FROM nodes WHERE path = '/old'").get() as { sum: number };
    assert.equal(row.sum, nodeRowSum('/old', 0, 'kept', 1, 1, null));
    // Changed behind the sums' back, as damage would:
    db.prepare("UPDATE nodes SET value = 'kepT' WHERE path = '/old'").run();
    db.close();
    const err = damagedError(() => new Store({ backend: new SqliteBackend(file) }));
    assert.equal(err.code, 'DATABASE_DAMAGED');
  });
});

test('rows written by a build without sums after this one (a downgrade) get their sums made again, not refused', async () => {
  await withTempDir('deimos-sums-', async (dir) => {
    const file = join(dir, 'state.db');
    writeMarked(file);
    // What an older build's batch does: new rows and meta, the sum column untouched.
    const db = new Database(file);
    db.prepare("UPDATE nodes SET value = 'changed by an older build' WHERE path = '/first'").run();
    db.prepare("INSERT INTO events (idx, event) VALUES (4, ?)").run(JSON.stringify({
      action: 'set', node: { key: '/first', value: 'changed by an older build', modifiedIndex: 4, createdIndex: 1 }, index: 4,
    }));
    db.prepare("UPDATE meta SET value = 6 WHERE name = 'applied_index'").run();
    db.prepare("UPDATE meta SET value = 4 WHERE name = 'store_index'").run();
    db.close();
    const backend = new SqliteBackend(file);
    const store = new Store({ backend });
    assert.equal(store.get('/first', {}, T0).event.node?.value, 'changed by an older build');
    assert.deepEqual(store.applied, { index: 6, term: 1 });
    assert.deepEqual(store.watch('/first', { sinceIndex: 4 }).take().map((e) => e.index), [4]);
    backend.close();
  });
});

test('sums tell apart what they must: each field, its kind, null and empty', () => {
  const base = nodeRowSum('/k', 0, 'v', 1, 2, null);
  assert.notEqual(nodeRowSum('/k', 0, 'w', 1, 2, null), base);
  assert.notEqual(nodeRowSum('/k', 1, 'v', 1, 2, null), base);
  assert.notEqual(nodeRowSum('/k', 0, 'v', 2, 1, null), base, 'created and modified swapped');
  assert.notEqual(nodeRowSum('/k', 0, 'v', 1, 2, 0), base, 'no expiration against an expiration of 0');
  assert.notEqual(nodeRowSum('/k', 0, '', 1, 2, null), nodeRowSum('/k', 0, null, 1, 2, null), 'empty value against none');
  assert.notEqual(nodeRowSum('/k', 0, '1', 1, 2, null), nodeRowSum('/k', 0, 1, 1, 2, null), 'text against a number');
  assert.notEqual(nodeRowSum('/k', 0, 'v', 2 ** 53 - 1, 2, null), nodeRowSum('/k', 0, 'v', 2 ** 53 - 2, 2, null), 'high integers');
  assert.notEqual(nodeRowSum('/k', 0, 'v', 2 ** 32 + 1, 2, null), nodeRowSum('/k', 0, 'v', 1, 2, null), 'the high half counts');
  assert.notEqual(nodeRowSum('/ab', 0, 'c', 1, 2, null), nodeRowSum('/a', 0, 'bc', 1, 2, null), 'field boundaries count');
  assert.notEqual(eventRowSum(1, '{}'), eventRowSum(2, '{}'));
  assert.equal(nodeRowSum('/k', 0, 'v', 1, 2, null), base, 'the same row sums the same');
});
