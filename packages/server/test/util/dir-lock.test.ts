import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, lockDataDir } from '../../src/util/dir-lock.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a held lock refuses a second taker with a clear error, and is free again after release', (t) => {
  const dir = tempDir(t);
  const lock = lockDataDir(dir);
  assert.throws(() => lockDataDir(dir), (err: unknown) => err instanceof DataDirLockedError && err.code === 'ERR_DATA_DIR_LOCKED' && /in use by another deimos process/.test(err.message));
  lock.release();
  lock.release(); // idempotent
  lockDataDir(dir).release();
});

test('a PID-file LOCK of an older deimos (even naming a live process) does not block', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'LOCK'), `${process.pid}\n`);
  lockDataDir(dir).release();
});

test('the kernel releases the lock of a process killed with SIGKILL', async (t) => {
  const dir = tempDir(t);
  const url = new URL('../../src/util/dir-lock.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { lockDataDir } = await import(${JSON.stringify(url)}); lockDataDir(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  assert.throws(() => lockDataDir(dir), DataDirLockedError, 'held by the child');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  lockDataDir(dir).release();
});

test('a damaged LOCK (nothing can hold it) is made again; a LOCK that cannot be opened is refused naming it', (t) => {
  const dir = tempDir(t);
  lockDataDir(dir).release();
  const path = join(dir, 'LOCK');
  const bytes = readFileSync(path);
  for (let i = 100; i < bytes.length; i += 512) bytes[i] = 0xff;
  writeFileSync(path, bytes);
  const lock = lockDataDir(dir);
  assert.throws(() => lockDataDir(dir), DataDirLockedError, 'the new lock holds');
  lock.release();
  const other = tempDir(t);
  mkdirSync(join(other, 'LOCK'));
  assert.throws(() => lockDataDir(other), (err: unknown) => err instanceof Error && err.message.includes(join(other, 'LOCK')) && !err.message.includes('\n'));
});

/** Resolves once `check` holds, polling every few milliseconds (fails after 10 s). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('a LOCK removed while held is taken again, so a later taker is still refused', async (t) => {
  const dir = tempDir(t);
  const lock = lockDataDir(dir);
  t.after(() => lock.release());
  let retaken = 0;
  const lost: Error[] = [];
  lock.guard(10, { retaken: () => retaken++, lost: (err) => lost.push(err) });
  rmSync(join(dir, 'LOCK'));
  rmSync(join(dir, 'LOCK-journal'), { force: true });
  await until(() => retaken === 1, 'the lock to be taken again');
  assert.throws(() => lockDataDir(dir), DataDirLockedError);
  assert.deepEqual(lost, []);
});

test('a LOCK removed and taken by another holder first is reported lost, once', async (t) => {
  const dir = tempDir(t);
  const lock = lockDataDir(dir);
  t.after(() => lock.release());
  rmSync(join(dir, 'LOCK'));
  rmSync(join(dir, 'LOCK-journal'), { force: true });
  const other = lockDataDir(dir); // the second process, faster than the check this time
  t.after(() => other.release());
  const lost: Error[] = [];
  lock.guard(10, { retaken: () => assert.fail('taken again while another holds it'), lost: (err) => lost.push(err) });
  await until(() => lost.length > 0, 'the loss to be reported');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(lost.length, 1);
  assert.match(lost[0]!.message, /^the data directory's lock .*LOCK was removed while this member ran, and could not be taken again: data directory .* is in use by another deimos process/);
});
