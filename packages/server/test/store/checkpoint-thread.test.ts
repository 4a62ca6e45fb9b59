/**
 * The state database's WAL checkpoints on a thread of their own (`checkpointThread`): the thread
 * copies committed pages into the database file while the member's thread only commits, the
 * member's own TRUNCATE checkpoint still empties the WAL, a restore and a close stop the thread's
 * connection first, and everything committed is there when the file is opened again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteBackend, Store } from '../../src/store/index.js';
import { T0, withTempDir } from './support.js';
import { until } from '../worker/support.js';

const size = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

function writeBatches(store: Store, prefix: string, batches: number, appliedFrom: number): number {
  let applied = appliedFrom;
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < 200; i++) store.set(`/${prefix}/b${b}k${i}`, { value: 'v'.repeat(256) }, T0);
    store.commit({ index: ++applied, term: 1 });
  }
  return applied;
}

test('without the thread and without automatic checkpoints nothing would reach the database file; with it, the thread copies the commits there', async () => {
  await withTempDir('deimos-ckpt-', async (dir) => {
    const file = join(dir, 'state.db');
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', checkpointThread: true });
    assert.equal(backend.checkpointsInBackground, true);
    const store = new Store({ backend });
    const before = size(file);
    writeBatches(store, 'a', 20, 0);
    assert.ok(size(`${file}-wal`) > 1024 * 1024, 'the commits are in the WAL');
    // Only the thread can have copied them: this connection never checkpoints by itself now.
    await until(() => size(file) > before + 1024 * 1024, 10_000);
    backend.close();
  });
});

test('the member\'s own checkpoint empties the WAL while the thread runs, and every commit is there on reopening', async () => {
  await withTempDir('deimos-ckpt-', async (dir) => {
    const file = join(dir, 'state.db');
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', checkpointThread: true });
    const store = new Store({ backend });
    let applied = 0;
    for (let round = 0; round < 5; round++) {
      applied = writeBatches(store, `r${round}`, 5, applied);
      backend.checkpoint();
      assert.equal(size(`${file}-wal`), 0, `round ${round}: TRUNCATE left the WAL empty`);
      await new Promise((r) => setTimeout(r, 30));
    }
    applied = writeBatches(store, 'last', 3, applied);
    const expected = store.get('/', { recursive: true, sorted: true }, T0).event;
    backend.close();
    const reopened = new Store({ backend: new SqliteBackend(file) });
    assert.deepEqual(reopened.get('/', { recursive: true, sorted: true }, T0).event, expected);
    assert.deepEqual(reopened.applied, { index: applied, term: 1 });
  });
});

test('a restore stops the thread\'s connection before replacing the file, and starts a new one after', async () => {
  await withTempDir('deimos-ckpt-', async (dir) => {
    const leaderBackend = new SqliteBackend(join(dir, 'leader.db'));
    const leader = new Store({ backend: leaderBackend });
    writeBatches(leader, 'from-leader', 2, 0);
    const snap = join(dir, 'snap.db');
    leaderBackend.checkpointTo(snap);
    leaderBackend.close();

    const file = join(dir, 'follower.db');
    const backend = new SqliteBackend(file, { synchronous: 'NORMAL', checkpointThread: true });
    const follower = new Store({ backend });
    writeBatches(follower, 'own', 3, 0);
    backend.restoreFrom(snap);
    follower.reload();
    assert.equal(backend.checkpointsInBackground, true);
    assert.equal(follower.get('/from-leader/b1k199', {}, T0).event.node?.value?.length, 256);
    assert.throws(() => follower.get('/own/b0k0', {}, T0));
    const before = size(file);
    writeBatches(follower, 'after', 20, 2);
    assert.ok(size(`${file}-wal`) > 0, 'the commits after the restore are in the new WAL');
    await until(() => size(file) > before + 1024 * 1024, 10_000);
    backend.close();
    const reopened = new Store({ backend: new SqliteBackend(file) });
    assert.equal(reopened.get('/after/b19k199', {}, T0).event.node?.value?.length, 256);
    assert.equal(reopened.get('/from-leader/b0k0', {}, T0).event.node?.value?.length, 256);
  });
});
