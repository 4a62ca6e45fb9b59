/**
 * A WAL on a full disk (a small tmpfs filled to the last page; needs root, as CI runs): a save
 * without room leaves the log as it was and can be retried, the zero-fill ahead and segment cuts
 * without room are reported and made up for later, and nothing of it reads back as damage.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wal, WalNoSpaceError } from '../../src/wal/index.js';
import { META, entries, entry, lastSegment, segmentNames, view } from './helpers.js';

const SKIP = process.platform !== 'linux' || process.getuid?.() !== 0
  ? 'mounting a tmpfs needs root on Linux (CI runs as root)'
  : false;
const PREALLOCATE = 64 * 1024;

/** A 512 KiB tmpfs for the test, unmounted when it ends; `fill` uses up every page, `free` gives them back. */
function smallDisk(t: TestContext): { dir: string; fill(): void; free(): void } {
  const mount = mkdtempSync(join(tmpdir(), 'deimos-wal-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mount], { stdio: 'pipe' });
  t.after(() => {
    execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
    rmSync(mount, { recursive: true, force: true });
  });
  const filler = join(mount, 'filler');
  return {
    dir: join(mount, 'wal'),
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (let chunk = 64 * 1024; chunk >= 512; chunk /= 2) {
          const buf = Buffer.alloc(chunk, 1);
          for (;;) {
            try {
              writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
  };
}

const isNoSpace = (err: unknown): boolean => err instanceof WalNoSpaceError && err.code === 'ERR_WAL_NO_SPACE';

test('a save without room throws WalNoSpaceError, leaves the log as it was, and goes through when retried once space returns', { skip: SKIP }, (t) => {
  const disk = smallDisk(t);
  const wal = Wal.create(disk.dir, META);
  wal.save({ term: 1, vote: '1', commit: 1 }, entries(1, 3, 1));
  const sizeBefore = statSync(lastSegment(disk.dir)).size;
  disk.fill();
  const big = entry(4, 1, 'x'.repeat(64 * 1024));
  assert.throws(() => wal.save({ term: 1, vote: '1', commit: 3 }, [big]), isNoSpace);
  assert.equal(statSync(lastSegment(disk.dir)).size, sizeBefore, 'what got in of the batch is cut off again');
  assert.equal(wal.lastIndex, 3);
  assert.throws(() => wal.save(undefined, [big]), isNoSpace, 'still no room, and the log is not poisoned');

  disk.free();
  wal.save({ term: 1, vote: '1', commit: 3 }, [big]);
  wal.save({ term: 1, vote: '1', commit: 4 }, [entry(5, 1)]);
  wal.close();
  const reopened = Wal.open(disk.dir);
  reopened.wal.close();
  assert.equal(reopened.repaired, undefined, 'nothing to repair');
  assert.deepEqual(view(reopened.entries), view([...entries(1, 3, 1), big, entry(5, 1)]));
  assert.equal(reopened.hardState.commit, 4);
});

test('a zero-fill ahead without room is reported, keeps the records, and preallocate() restores it once space returns', { skip: SKIP }, (t) => {
  const disk = smallDisk(t);
  const reports: WalNoSpaceError[] = [];
  const wal = Wal.create(disk.dir, META, { preallocateBytes: PREALLOCATE, onNoSpace: (err) => reports.push(err) });
  disk.fill();
  // The prologue's page has room for a small record: only the zeros after it find none.
  wal.save({ term: 1, vote: '1', commit: 0 }, [entry(1, 1)]);
  assert.equal(reports.length, 1, 'the missing room ahead is reported');
  assert.ok(reports[0] instanceof WalNoSpaceError);
  assert.throws(() => wal.preallocate(), isNoSpace, 'no room yet');

  disk.free();
  wal.preallocate();
  const withRoom = statSync(lastSegment(disk.dir)).size;
  wal.save({ term: 1, vote: '1', commit: 1 }, [entry(2, 1)]);
  assert.equal(statSync(lastSegment(disk.dir)).size, withRoom, 'the next record lands in the zeros');
  wal.close();
  const reopened = Wal.open(disk.dir);
  reopened.wal.close();
  assert.equal(reopened.repaired, undefined);
  assert.deepEqual(view(reopened.entries), view(entries(1, 2, 1)));
});

test('a segment cut without room is reported and done at the next save once space returns', { skip: SKIP }, (t) => {
  const disk = smallDisk(t);
  const reports: WalNoSpaceError[] = [];
  const wal = Wal.create(disk.dir, META, { segmentSizeBytes: 256, onNoSpace: (err) => reports.push(err) });
  disk.fill();
  wal.save(undefined, [entry(1, 1, 'y'.repeat(300))]);
  assert.equal(reports.length, 1, 'the cut is reported');
  assert.equal(segmentNames(disk.dir).length, 1, 'no new segment');
  assert.deepEqual(readdirSync(disk.dir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left taking space');

  disk.free();
  wal.save(undefined, [entry(2, 1)]);
  assert.equal(segmentNames(disk.dir).length, 2, 'the cut is made up for');
  wal.save(undefined, [entry(3, 1)]);
  wal.close();
  const reopened = Wal.open(disk.dir);
  reopened.wal.close();
  assert.equal(reopened.repaired, undefined);
  assert.deepEqual(view(reopened.entries), view([entry(1, 1, 'y'.repeat(300)), entry(2, 1), entry(3, 1)]));
});
