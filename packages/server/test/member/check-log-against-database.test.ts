import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SnapshotMetadata } from '@deimos/protocol';
import { checkLogAgainstDatabase, DataDirInconsistentError, installCutShort, type DatabaseSummary } from '../../src/member/check-log-against-database.js';
import type { WalSummary } from '../../src/wal/index.js';

const DB = '/data/state.db';
const WAL_DIR = '/data/wal';

function wal(opts: { snapshot?: number; last: number; commit: number }): WalSummary {
  const snapshot: SnapshotMetadata | undefined = opts.snapshot === undefined ? undefined : { index: opts.snapshot, term: 1, confState: { voters: ['1'], learners: [] } };
  return {
    state: { metadata: { nodeId: '1', clusterId: '2' }, hardState: { term: 2, vote: '1', commit: opts.commit }, snapshot, entries: [], repaired: undefined },
    lastIndex: opts.last,
    segmentPaths: [`${WAL_DIR}/first.wal`, `${WAL_DIR}/last.wal`],
  };
}

function db(appliedIndex: number, restoredFrom?: DatabaseSummary['restoredFrom']): DatabaseSummary {
  return { path: DB, appliedIndex, restoredFrom };
}

/** Refused with one line naming `files` and the `indexes` as "index N". */
function refused(fn: () => void, files: string[], indexes: number[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataDirInconsistentError);
    assert.equal(err.code, 'ERR_DATA_DIR_INCONSISTENT');
    assert.ok(!err.message.includes('\n'), 'one line');
    for (const f of files) assert.ok(err.message.includes(f), `names ${f}: ${err.message}`);
    for (const i of indexes) assert.match(err.message, new RegExp(`index ${i}\\b`));
    return true;
  });
}

test('a database behind the commit (written behind) or level with the log is accepted', () => {
  checkLogAgainstDatabase(db(0), WAL_DIR, wal({ snapshot: 0, last: 10, commit: 10 }));
  checkLogAgainstDatabase(db(7), WAL_DIR, wal({ snapshot: 0, last: 10, commit: 10 }));
  checkLogAgainstDatabase(db(10), WAL_DIR, wal({ snapshot: 5, last: 12, commit: 10 }));
  checkLogAgainstDatabase(db(5), WAL_DIR, wal({ snapshot: 5, last: 5, commit: 5 }));
});

test('an empty database and no WAL is a new member; a database with data and no WAL is refused', () => {
  checkLogAgainstDatabase(db(0), WAL_DIR, undefined);
  refused(() => checkLogAgainstDatabase(db(42), WAL_DIR, undefined), [DB, WAL_DIR], [42, 0]);
});

test('a database below the WAL snapshot (missing, or an older copy) is refused', () => {
  refused(() => checkLogAgainstDatabase(db(0), WAL_DIR, wal({ snapshot: 100, last: 120, commit: 120 })), [DB, `${WAL_DIR}/first.wal`], [0, 100]);
  refused(() => checkLogAgainstDatabase(db(99), WAL_DIR, wal({ snapshot: 100, last: 120, commit: 120 })), [DB], [99, 100]);
});

test('a log or commit below the database applied index is refused', () => {
  refused(() => checkLogAgainstDatabase(db(50), WAL_DIR, wal({ snapshot: 0, last: 40, commit: 40 })), [DB, `${WAL_DIR}/last.wal`], [40, 50]);
  refused(() => checkLogAgainstDatabase(db(50), WAL_DIR, wal({ snapshot: 0, last: 60, commit: 49 })), [DB], [60, 50]);
});

test('a database just restored from a leader snapshot may be ahead of the log, but not once entries were applied on top', () => {
  const restored = { snapshotIndex: 100, appliedIndex: 130 };
  checkLogAgainstDatabase(db(130, restored), WAL_DIR, wal({ snapshot: 100, last: 100, commit: 100 }));
  checkLogAgainstDatabase(db(130, restored), WAL_DIR, wal({ snapshot: 100, last: 115, commit: 110 }));
  refused(() => checkLogAgainstDatabase(db(140, restored), WAL_DIR, wal({ snapshot: 100, last: 135, commit: 135 })), [DB], [135, 140]);
  refused(() => checkLogAgainstDatabase(db(130, restored), WAL_DIR, wal({ snapshot: 120, last: 125, commit: 125 })), [DB], [125, 130]);
});

test('a snapshot install cut short before the WAL recorded it is accepted, but not once entries were applied on top', () => {
  const restored = { snapshotIndex: 100, appliedIndex: 130 };
  const before = wal({ snapshot: 0, last: 4, commit: 4 });
  checkLogAgainstDatabase(db(130, restored), WAL_DIR, before);
  assert.equal(installCutShort(db(130, restored), 0), true);
  assert.equal(installCutShort(db(130, restored), 100), false, 'recorded: complete');
  refused(() => checkLogAgainstDatabase(db(131, restored), WAL_DIR, before), [DB], [4, 131]);
  refused(() => checkLogAgainstDatabase(db(130), WAL_DIR, before), [DB], [4, 130]);
});
