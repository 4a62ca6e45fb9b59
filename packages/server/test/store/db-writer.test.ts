/**
 * The state database's write-behind commits on a writer thread (`writerThread`): batches are
 * committed in order on the thread's connection, `drain` waits for them, everything is there on
 * reopening, reads of old events and snapshots see every batch handed over, a batch the thread
 * cannot commit is reported, stays queued and fails every drain until it commits, and a restore
 * replaces the file under a new thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteBackend, Store, type StoreEvent } from '../../src/store/index.js';
import type { SqliteThreadError } from '../../src/store/store-errors.js';
import { T0, withTempDir } from './support.js';
import { until } from '../worker/support.js';

function writeBatches(store: Store, prefix: string, batches: number, appliedFrom: number): number {
  let applied = appliedFrom;
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < 50; i++) store.set(`/${prefix}/b${b}/k${i}`, { value: `v${b}.${i}`, ttlSeconds: i % 2 === 0 ? undefined : 3600 }, T0);
    if (b % 3 === 2) store.delete(`/${prefix}/b${b - 1}`, { recursive: true });
    store.commit({ index: ++applied, term: 2 });
  }
  return applied;
}

const everything = (store: Store): unknown => store.get('/', { recursive: true, sorted: true }, T0).event;

test('batches commit on the thread, in order; after a drain (and after close) every one is in the file', async () => {
  await withTempDir('deimos-writer-', async (dir) => {
    const file = join(dir, 'state.db');
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', writerThread: true });
    assert.equal(backend.commitsInBackground, true);
    const store = new Store({ backend });
    const applied = writeBatches(store, 'a', 30, 0);
    const expected = everything(store);
    store.waitDurable();
    // A second connection sees every batch once drained.
    const peek = new SqliteBackend(file);
    assert.deepEqual(peek.load().applied, { index: applied, term: 2 });
    peek.close();
    const more = writeBatches(store, 'b', 5, applied);
    const expectedMore = everything(store);
    backend.close();
    const reopened = new Store({ backend: new SqliteBackend(file) });
    assert.deepEqual(reopened.applied, { index: more, term: 2 });
    assert.deepEqual(everything(reopened), expectedMore);
    assert.notDeepEqual(expected, expectedMore);
  });
});

test('reads of old events, hashes and snapshot copies see every batch handed to the thread', async () => {
  await withTempDir('deimos-writer-', async (dir) => {
    const file = join(dir, 'state.db');
    const plainFile = join(dir, 'plain.db');
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', writerThread: true });
    const plain = new SqliteBackend(plainFile, { synchronous: 'NORMAL' });
    // A memory window of 10 events: a scan from index 1 reads the rest back from the database.
    const store = new Store({ backend, historyLimit: 1000, historyMemorySize: 10 });
    const plainStore = new Store({ backend: plain, historyLimit: 1000, historyMemorySize: 10 });
    writeBatches(store, 'h', 6, 0);
    writeBatches(plainStore, 'h', 6, 0);
    // The scan from index 1 reads the old events back: they must all be there already.
    const scan = (s: Store): StoreEvent[] => s.watch('/h', { recursive: true, stream: true, sinceIndex: 1, bufferSize: 10_000 }).take();
    const events = scan(store);
    assert.equal(events.length, 6 * 50 + 2);
    assert.deepEqual(events, scan(plainStore));
    assert.equal(backend.hashNodes().hash, plain.hashNodes().hash);
    backend.checkpointTo(join(dir, 'snap.db'));
    const fromSnapshot = new Store({ backend: new SqliteBackend(join(dir, 'snap.db')) });
    assert.deepEqual(everything(fromSnapshot), everything(store));
    backend.close();
    plain.close();
  });
});

test('a batch the thread cannot commit is reported, stays queued, and fails every drain; nothing after it is committed', async () => {
  await withTempDir('deimos-writer-', async (dir) => {
    const file = join(dir, 'state.db');
    const reported: SqliteThreadError[] = [];
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', writerThread: true, onWriterError: (err) => void reported.push(err) });
    const event = (index: number): StoreEvent => ({ action: 'set', node: { key: `/k${index}`, value: 'v', modifiedIndex: index, createdIndex: index }, index } as unknown as StoreEvent);
    const batch = (index: number, events: StoreEvent[]) => ({ changes: [], events, storeIndex: index, historyStartIndex: 1, applied: { index, term: 1 } });
    backend.commit(batch(1, [event(1)]));
    backend.drain();
    // The same event index again: the events table's primary key refuses it.
    backend.commit(batch(2, [event(1)]));
    backend.commit(batch(3, [event(3)]));
    // Reported as it happens (the member raises its NOSPACE alarm from this on a full disk)...
    await until(() => reported.length > 0, 10_000);
    assert.equal(reported[0]!.code, 'SQLITE_CONSTRAINT_PRIMARYKEY');
    // ...and thrown by every drain, which tries the batch again.
    assert.throws(() => backend.drain(), (err: SqliteThreadError) => err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
    assert.throws(() => backend.drain(), (err: SqliteThreadError) => err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
    const peek = new SqliteBackend(file);
    assert.deepEqual(peek.load().applied, { index: 1, term: 1 }, 'the batch after the failed one waits behind it');
    peek.close();
    // Closing still closes (what could not be committed is left to the raft log's replay).
    backend.close();
    assert.equal(backend.commitsInBackground, false, 'close stopped the thread');
    const reopened = new SqliteBackend(file);
    assert.deepEqual(reopened.load().applied, { index: 1, term: 1 });
    reopened.close();
  });
});

test('a restore drains and stops the thread before replacing the file, and commits after it go to the new file', async () => {
  await withTempDir('deimos-writer-', async (dir) => {
    const leaderBackend = new SqliteBackend(join(dir, 'leader.db'));
    const leader = new Store({ backend: leaderBackend });
    writeBatches(leader, 'from-leader', 2, 0);
    const snap = join(dir, 'snap.db');
    leaderBackend.checkpointTo(snap);
    leaderBackend.close();

    const file = join(dir, 'follower.db');
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', writerThread: true });
    const follower = new Store({ backend });
    writeBatches(follower, 'own', 3, 0);
    backend.restoreFrom(snap);
    follower.reload();
    assert.equal(backend.commitsInBackground, true);
    assert.equal(follower.get('/from-leader/b0/k0', {}, T0).event.node?.value, 'v0.0');
    assert.throws(() => follower.get('/own/b0/k0', {}, T0));
    writeBatches(follower, 'after', 4, 2);
    const expected = everything(follower);
    backend.close();
    assert.deepEqual(everything(new Store({ backend: new SqliteBackend(file) })), expected);
  });
});
