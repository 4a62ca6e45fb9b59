import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, HardState, Snapshot } from '@deimos/protocol';
import { Wal, loadRaftStorage, type RaftStorageSink } from '../../src/wal/index.js';
import { META, entries, view, walDir } from './helpers.js';

/** Records the calls a restart makes, in order (stands in for raft's MemoryStorage). */
class RecordingStorage implements RaftStorageSink {
  calls: string[] = [];
  snapshot: Snapshot | undefined;
  hardState: HardState | undefined;
  entries: Entry[] = [];
  applySnapshot(s: Snapshot): void {
    this.calls.push('applySnapshot');
    this.snapshot = s;
  }
  setHardState(hs: HardState): void {
    this.calls.push('setHardState');
    this.hardState = hs;
  }
  append(list: Entry[]): void {
    this.calls.push('append');
    this.entries.push(...list);
  }
}

test('loadRaftStorage restores snapshot, then hard state, then entries', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META);
  wal.save({ term: 2, vote: '1', commit: 8 }, entries(1, 10, 2));
  wal.saveSnapshotMarker({ index: 5, term: 2, confState: { voters: ['1', '2', '3'], learners: [] } });
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  const data = new Uint8Array([1, 2, 3]);
  const storage = loadRaftStorage(opened, new RecordingStorage(), data);
  assert.deepEqual(storage.calls, ['applySnapshot', 'setHardState', 'append']);
  assert.deepEqual(storage.snapshot?.metadata, { index: 5, term: 2, confState: { voters: ['1', '2', '3'], learners: [] } });
  assert.equal(storage.snapshot?.data, data);
  assert.deepEqual(storage.hardState, { term: 2, vote: '1', commit: 8 });
  assert.deepEqual(view(storage.entries), view(entries(6, 10, 2)));
});

test('loadRaftStorage skips the snapshot of a log that has none', (t) => {
  const dir = walDir(t);
  Wal.create(dir, META).close();
  const opened = Wal.open(dir);
  opened.wal.close();
  const storage = loadRaftStorage(opened, new RecordingStorage());
  assert.deepEqual(storage.calls, ['setHardState', 'append']);
});
