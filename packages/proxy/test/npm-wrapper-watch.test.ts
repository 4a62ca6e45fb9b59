/**
 * Which ancestors a binary started by npm watches, and when it takes them for gone (the real
 * processes are in test/e2e/install-packed.test.ts: npx, npm start, SIGTERM and SIGHUP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { npmWrapperChain, npmWrapperGone, readProcFs, type ProcessInfo } from '../src/npm-wrapper-watch.js';

/** A process table: pid -> command line and parent. */
function table(rows: Record<number, ProcessInfo>): (pid: number) => ProcessInfo | undefined {
  return (pid) => rows[pid];
}

const NPX_ENV = { npm_lifecycle_event: 'npx', npm_lifecycle_script: "'deimos'" };

test('under npx (npm -> sh -c -> deimos) the shell and npm are watched', () => {
  const procs = table({ 20: { cmdline: ['sh', '-c', "'deimos' --name n1", ''], ppid: 10 }, 10: { cmdline: ['npm exec deimos'], ppid: 5 } });
  assert.deepEqual(npmWrapperChain(NPX_ENV, 20, procs), [20, 10]);
});

test('under a script that execs (npm -> deimos) npm alone is watched; not under npm, nothing', () => {
  const procs = table({ 10: { cmdline: ['npm start'], ppid: 5 } });
  assert.deepEqual(npmWrapperChain({ npm_lifecycle_event: 'start', npm_lifecycle_script: 'exec node bin/deimos.js' }, 10, procs), [10]);
  assert.deepEqual(npmWrapperChain({}, 10, procs), []);
  assert.deepEqual(npmWrapperChain(NPX_ENV, 1, procs), [], 'already orphaned: nothing to watch');
  // A shell that is not npm's (its command is not the npm script) is only the parent.
  const other = table({ 20: { cmdline: ['sh', '-c', 'ulimit -n 4096 && exec "$0" "$@"'], ppid: 10 } });
  assert.deepEqual(npmWrapperChain(NPX_ENV, 20, other), [20]);
});

test('the wrapper is gone when the parent changed, or when the shell lost npm', () => {
  const chain = [20, 10];
  assert.equal(npmWrapperGone(chain, 20, table({ 20: { cmdline: [], ppid: 10 } })), false);
  assert.equal(npmWrapperGone(chain, 1, table({})), true, 'the shell died (npm forwarded SIGTERM to it)');
  assert.equal(npmWrapperGone(chain, 20, table({ 20: { cmdline: [], ppid: 1 } })), true, 'npm died (SIGHUP), the shell lives on');
  assert.equal(npmWrapperGone([], 1, table({})), false);
});

test('readProcFs reads this process, and nothing for a pid that does not exist', () => {
  const self = readProcFs(process.pid);
  if (self === undefined) return; // no /proc here
  assert.equal(self.ppid, process.ppid);
  assert.ok(self.cmdline[0]!.length > 0);
  assert.equal(readProcFs(2 ** 22 + 1), undefined);
});
