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
