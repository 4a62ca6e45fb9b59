/**
 * The WAL with every file descriptor of the process taken (a member flooded with connections): a
 * cut uses the segment file made ahead of time, and when there is none the log keeps appending to
 * the current segment and cuts once descriptors are back, instead of failing (and the member with it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Wal } from '../../src/wal/index.js';
import { SPARE_FILE_NAME } from '../../src/wal/spare-segment.js';
import { META, entry, segmentNames, view, walDir } from './helpers.js';

/** Holds every file descriptor the process can still open (/dev/null), as a connection flood would. */
class DescriptorHog {
  private readonly fds: number[] = [];

  /** Opens descriptors until there are none left (again: closing a file frees one). */
  grab(): void {
    for (;;) {
      try {
        this.fds.push(openSync('/dev/null', 'r'));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EMFILE' || code === 'ENFILE') return;
        this.release();
        throw err;
      }
    }
  }

  release(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}

test('segment cuts and releases with every descriptor taken need no new descriptor', (t) => {
  const dir = walDir(t);
  const wal = Wal.create(dir, META, { segmentSizeBytes: 256, onWarning: () => undefined });
  assert.ok(existsSync(join(dir, SPARE_FILE_NAME)), 'no spare segment after create');
  const hog = new DescriptorHog();
  let released = 0;
  // Synchronous from grab to release, so nothing else in this process needs a descriptor meanwhile.
  try {
    for (let i = 1; i <= 12; i++) {
      hog.grab();
      wal.save({ term: 1, vote: '0', commit: i }, [entry(i, 1)]);
    }
    hog.grab();
    wal.saveSnapshotMarker({ index: 12, term: 1, confState: { voters: [META.nodeId], learners: [] } });
    hog.grab();
    // Deleting covered segments fsyncs the directory through the descriptor the log holds.
    released = wal.releaseBefore(12);
    hog.grab();
    wal.save(undefined, [entry(13, 1)]);
  } finally {
    hog.release();
  }
  assert.ok(released >= 2, `expected cut segments to be released, got ${released}`);
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(view(opened.entries), [[13, 1, 'e1.13']]);
});

test('when the next segment cannot be made the current one grows, and cuts resume once it can', async (t) => {
  const dir = walDir(t);
  const warnings: string[] = [];
  const wal = Wal.create(dir, META, { segmentSizeBytes: 256, onWarning: (m, e) => warnings.push(`${m}: ${e.message}`) });
  let next = 1;
  const write = (count: number) => {
    for (const stop = next + count; next < stop; next++) wal.save({ term: 1, vote: '0', commit: next }, [entry(next, 1)]);
  };
  // A directory where the spare goes: the prepared spare cannot be renamed into place (it is no
  // longer there) and no new one can be created, as when descriptors or space run out.
  const spare = join(dir, SPARE_FILE_NAME);
  rmSync(spare);
  mkdirSync(spare);
  write(40);
  assert.deepEqual(segmentNames(dir).length, 1, 'a segment was cut without a spare');
  assert.ok(warnings.some((w) => w.includes('grows')), `no warning: ${warnings.join('; ')}`);
  rmdirSync(spare);
  // The spare is retried at most once a second: poll with a deadline.
  const deadline = Date.now() + 10_000;
  while (segmentNames(dir).length < 2) {
    assert.ok(Date.now() < deadline, 'no cut once the spare could be made');
    await sleep(100);
    write(1);
  }
  write(40);
  assert.ok(segmentNames(dir).length > 3, 'cuts did not resume at the segment size');
  wal.close();
  const opened = Wal.open(dir);
  opened.wal.close();
  assert.deepEqual(opened.entries.map((e) => e.index), Array.from({ length: next - 1 }, (_, i) => i + 1));
});
