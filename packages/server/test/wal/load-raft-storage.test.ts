import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, HardState, Snapshot } from '@deimos/protocol';
import { CompactedError, MemoryStorage } from '@deimos/raft';
import { Wal, loadRaftStorage, type RaftStorageSink } from '../../src/wal/index.js';
import { META, entries, view, walDir } from './helpers.js';

/** Records the calls a restart makes, in order. */
class RecordingStorage implements RaftStorageSink {
  calls: string[] = [];
  applySnapshot(_s: Snapshot): void {
    this.calls.push('applySnapshot');
  }
  setHardState(_hs: HardState): void {
    this.calls.push('setHardState');
  }
  append(_list: Entry[]): void {
    this.calls.push('append');
  }
}

function reopen(dir: string) {
  const opened = Wal.open(dir);
  opened.wal.close();
  return opened;
}

test('loadRaftStorage restores a MemoryStorage: snapshot, then hard state, then entries', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 2, vote: '1', commit: 8 }, entries(1, 10, 2));
  wal.saveSnapshotMarker({ index: 5, term: 2, confState: { voters: ['1', '2', '3'], learners: [] } });
  wal.close();
  const state = reopen(dir);
  const data = new Uint8Array([1, 2, 3]);
  const storage = loadRaftStorage(state, { snapshotData: data });
  assert.ok(storage instanceof MemoryStorage);
  assert.deepEqual(storage.initialState(), { hardState: { term: 2, vote: '1', commit: 8 }, confState: { voters: ['1', '2', '3'], learners: [] } });
  assert.equal(storage.firstIndex(), 6);
  assert.equal(storage.lastIndex(), 10);
  assert.equal(storage.term(5), 2);
  assert.throws(() => storage.term(4), CompactedError);
  assert.deepEqual(view(storage.entries(6, 11, Number.MAX_SAFE_INTEGER)), view(entries(6, 10, 2)));
  assert.equal(storage.snapshot().data, data);

  const recorded = loadRaftStorage(state, { storage: new RecordingStorage() });
  assert.deepEqual(recorded.calls, ['applySnapshot', 'setHardState', 'append']);
});

test('a marker at index 0 restores the bootstrap configuration of a new cluster', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.saveSnapshotMarker({ index: 0, term: 0, confState: { voters: ['1', '2'], learners: ['3'] } });
  wal.save({ term: 1, vote: '1', commit: 0 }, entries(1, 2, 1));
  wal.close();
  const storage = loadRaftStorage(reopen(dir));
  assert.deepEqual(storage.initialState().confState, { voters: ['1', '2'], learners: ['3'] });
  assert.equal(storage.firstIndex(), 1);
  assert.equal(storage.lastIndex(), 2);
});

test('loadRaftStorage of a fresh log gives an empty storage', (t) => {
  const dir = walDir(t);
  Wal.create(dir, META).close();
  const state = reopen(dir);
  const storage = loadRaftStorage(state);
  assert.equal(storage.lastIndex(), 0);
  assert.deepEqual(loadRaftStorage(state, { storage: new RecordingStorage() }).calls, ['setHardState', 'append']);
});
