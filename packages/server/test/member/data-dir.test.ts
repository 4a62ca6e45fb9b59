import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { danglingLinkTarget, prepareDataDir } from '../../src/member/data-dir.js';

test('a start taking back its new data directory leaves a parent it made when others use it, and removes it when empty', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'deimos-data-dir-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // Members started together from the README: the first makes cluster/, the second its own in it.
  const first = prepareDataDir(join(work, 'cluster', 'node1.deimos'));
  const second = prepareDataDir(join(work, 'cluster', 'node2.deimos'));
  writeFileSync(join(work, 'cluster', 'node2.deimos', 'state.db'), 'theirs');
  first.discardNew();
  assert.equal(existsSync(join(work, 'cluster', 'node1.deimos')), false);
  assert.equal(existsSync(join(work, 'cluster', 'node2.deimos', 'state.db')), true, 'the other member\'s directory is kept');
  second.discardNew();
  assert.equal(existsSync(join(work, 'cluster')), true, 'made by the first start: the second leaves it');
  // Alone, a start removes every parent it made.
  const alone = prepareDataDir(join(work, 'a', 'b', 'c.deimos'));
  alone.discardNew();
  assert.equal(existsSync(join(work, 'a')), false);
  // A directory that existed keeps what it had.
  mkdirSync(join(work, 'kept'));
  writeFileSync(join(work, 'kept', 'mine'), 'x');
  const existing = prepareDataDir(join(work, 'kept'));
  writeFileSync(join(work, 'kept', 'state.db'), 'new');
  existing.discardNew();
  assert.equal(existsSync(join(work, 'kept', 'mine')), true);
  assert.equal(existsSync(join(work, 'kept', 'state.db')), false);
});

test('danglingLinkTarget: the missing end of a chain of links; nothing for a file, a missing path, a live link or a loop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-links-'));
  try {
    writeFileSync(join(dir, 'file'), '');
    symlinkSync(join(dir, 'file'), join(dir, 'live'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'one'));
    symlinkSync('one', join(dir, 'two'));
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    assert.equal(danglingLinkTarget(join(dir, 'one')), join(dir, 'nowhere'));
    assert.equal(danglingLinkTarget(join(dir, 'two')), join(dir, 'nowhere'), 'through a relative link');
    for (const name of ['file', 'live', 'absent', 'loop-a']) assert.equal(danglingLinkTarget(join(dir, name)), undefined, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
