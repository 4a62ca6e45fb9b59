/**
 * deimosctl lock and elect against a real server: mutual exclusion between concurrent `lock`
 * processes running a command that checks and bumps a shared marker, the lock passing on after a
 * kill -9 of its holder (once the TTL ran out), and election failover.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { CtlProcess, ctl, memberAndTempDir } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

/** The pid a lock's command wrote into `pidFile` once it started. */
async function commandPid(pidFile: string): Promise<number> {
  await waitFor(() => {
    try {
      return readFileSync(pidFile, 'utf8').trim() !== '';
    } catch {
      return false;
    }
  }, { timeoutMs: 20_000, what: 'the command to start' });
  return Number(readFileSync(pidFile, 'utf8').trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('deimosctl lock and elect', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-lock-');

  /** Waits until `dir` holds `count` queue keys (a waiter has enqueued). */
  async function queued(queueDir: string, count: number): Promise<void> {
    await waitFor(async () => (await ctl(['ls', queueDir, ...f.ep])).stdout.trim().split('\n').filter((l) => l !== '').length >= count,
      { timeoutMs: 20_000, intervalMs: 100, what: `${count} keys in ${queueDir}` });
  }

  test('concurrent lock holders never overlap: each command sees the marker free and the counter intact', async () => {
    const marker = join(f.dir, 'held');
    const counter = join(f.dir, 'counter');
    const violations = join(f.dir, 'violations');
    writeFileSync(counter, '0');
    writeFileSync(violations, '');
    // Check the marker, take it, bump the counter slowly (read, sleep, write), release the marker.
    const script = [
      `if [ -e ${marker} ]; then echo overlap >> ${violations}; fi`,
      `touch ${marker}`,
      `n=$(cat ${counter}); sleep 0.2; echo $((n + 1)) > ${counter}`,
      `rm -f ${marker}`,
    ].join('; ');
    const holders = 5;
    const results = await Promise.all(Array.from({ length: holders }, () => ctl(['lock', 'mutex', ...f.ep, '--', 'sh', '-c', script], { timeoutMs: 60_000 })));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(violations, 'utf8'), '');
    assert.equal(readFileSync(counter, 'utf8').trim(), String(holders));
  });

  test('lock exits with the command\'s exit code and passes the lock key in the environment', async () => {
    const r = await ctl(['lock', '/locks/code', ...f.ep, '--', 'sh', '-c', 'echo "$DEIMOS_LOCK_KEY"; exit 3']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^\/locks\/code\/\d{20}\n$/);
  });

  test('a command that cannot start: the same line and exit code as exec-watch (1), and the lock is released', async () => {
    const r = await ctl(['lock', '/locks/nostart', ...f.ep, '--', join(f.dir, 'no-such-command')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: {2}cannot start \S*no-such-command: .*ENOENT\n$/);
    const again = await ctl(['lock', '/locks/nostart', ...f.ep, '--', 'true'], { timeoutMs: 10_000 });
    assert.equal(again.code, 0, again.stderr);
  });

  test('without a command lock prints the key, holds until SIGINT and releases', async () => {
    const holder = CtlProcess.start(['lock', 'hold', ...f.ep]);
    await holder.waitForStdout(/^\/locks\/hold\/\d{20}\n$/);
    const waiter = CtlProcess.start(['lock', 'hold', ...f.ep]);
    await queued('/locks/hold', 2);
    assert.equal(waiter.stdout, ''); // queued behind the holder
    const started = Date.now();
    assert.equal(await holder.stop('SIGINT'), 0);
    await waiter.waitForStdout(/^\/locks\/hold\/\d{20}\n$/, 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(await waiter.stop('SIGINT'), 0);
  });

  test('the lock passes on when its holder is killed with SIGKILL, after the TTL', async () => {
    const holder = CtlProcess.start(['lock', 'crash', '--ttl', '2', ...f.ep]);
    await holder.waitForStdout(/\/locks\/crash\/\d+\n/);
    const waiter = CtlProcess.start(['lock', 'crash', '--ttl', '2', ...f.ep]);
    await queued('/locks/crash', 2);
    assert.equal(waiter.stdout, '');
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    await holder.exited;
    await waiter.waitForStdout(/\/locks\/crash\/\d+\n/, 20_000);
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 15_000, `the lock passed on after ${tookMs} ms`);
    assert.equal(await waiter.stop('SIGINT'), 0);
  });

  test('a kill -9 of deimosctl lock ends the command it runs (the kernel signals it), so it never runs on without the lock', async () => {
    const pidFile = join(f.dir, 'orphan.pid');
    const holder = CtlProcess.start(['lock', 'orphan', '--ttl', '2', ...f.ep, '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`]);
    const pid = await commandPid(pidFile);
    holder.child.kill('SIGKILL');
    await holder.exited;
    const alive = (): boolean => isAlive(pid);
    await waitFor(() => !alive(), { timeoutMs: 5_000, what: `the command (pid ${pid}) to end with its deimosctl` });
  });

  test('a second SIGINT kills a command that ignores the first, and the lock is released only once it has ended', async () => {
    const pidFile = join(f.dir, 'stubborn.pid');
    // The shell ignores SIGINT and SIGTERM; `exec`-less, so its pid is the one signalled.
    const holder = CtlProcess.start(['lock', 'stubborn', '--ttl', '5', ...f.ep, '--', 'sh', '-c', `trap "" TERM INT; echo $$ > ${pidFile}; while :; do sleep 0.1; done`]);
    const pid = await commandPid(pidFile);
    const alive = (): boolean => isAlive(pid);
    holder.child.kill('SIGINT');
    // The command ignores the SIGTERM it was sent: deimosctl waits, still holding the lock. Signals
    // sent close together may arrive as one, so SIGINT goes again until deimosctl has ended.
    const again = setInterval(() => holder.child.kill('SIGINT'), 200);
    const code = await holder.exited;
    clearInterval(again);
    assert.equal(code, 137, 'the command was killed (SIGKILL), its status passed on');
    assert.equal(alive(), false, 'the command ended before deimosctl did');
    const waiter = await ctl(['lock', 'stubborn', ...f.ep, '--', 'true']);
    assert.equal(waiter.code, 0, waiter.stderr);
  });

  test('elect prints the proposal once leading; a killed leader is replaced after its TTL', async () => {
    const first = CtlProcess.start(['elect', 'sched', 'node-a', '--ttl', '2', ...f.ep]);
    await first.waitForStdout(/^node-a\n$/);
    const observer = CtlProcess.start(['elect', 'sched', '--listen', ...f.ep]);
    await observer.waitForStdout(/^node-a\n/);
    const second = CtlProcess.start(['elect', 'sched', 'node-b', '--ttl', '2', ...f.ep]);
    await queued('/elections/sched', 2);
    assert.equal(second.stdout, '');
    first.child.kill('SIGKILL');
    await second.waitForStdout(/^node-b\n$/, 20_000);
    await observer.waitForStdout(/^node-a\nnode-b\n/);
    assert.equal(await second.stop('SIGINT'), 0);
    await observer.waitForStdout(/^node-a\nnode-b\n\n$/); // nobody leads after the resignation
    assert.equal(await observer.stop('SIGINT'), 0);
    const noProposal = await ctl(['elect', 'sched', ...f.ep]);
    assert.deepEqual([noProposal.code, noProposal.stderr], [1, 'Error:  proposal required\n']);
    const both = await ctl(['elect', 'sched', 'node-c', '--listen', ...f.ep]);
    assert.deepEqual([both.code, both.stderr], [1, 'Error:  a proposal is for a candidate: --listen observes only\n']);
  });
});
