/**
 * The bench's /proc readings over a real process tree (a node process that forks a child), and the
 * CPU-list arithmetic behind `--cpus-per-member` and `--load-cpus`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { descendants, formatCpuList, parseCpuList, planMemberCpus, treeCpuSeconds, treeUsage } from './process-stats.js';
import { waitFor } from '../support/wait-for.js';

test('a process tree is the launched process and its descendants, with RSS and PSS summed', async () => {
  // The parent forks a child that spins a little, then both idle until killed.
  const script = `
    const { spawn } = require('node:child_process');
    const c = spawn(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 300); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    console.log(c.pid);
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((resolve) => parent.once('exit', resolve));
  let childPid = 0;
  parent.stdout.on('data', (d: Buffer) => (childPid = Number(d.toString().trim())));
  try {
    await waitFor(() => childPid > 0 && descendants(parent.pid!).includes(childPid), { timeoutMs: 10_000, what: 'the child in the tree' });
    await waitFor(() => treeCpuSeconds(parent.pid) > (treeUsage(parent.pid)?.main.cpuSeconds ?? 0), { timeoutMs: 10_000, what: 'child CPU counted' });
    const u = treeUsage(parent.pid)!;
    assert.equal(u.main.processes, 1);
    assert.equal(u.children.processes, 1);
    assert.equal(u.total.processes, 2);
    assert.ok(u.children.rssBytes > 0 && u.main.rssBytes > 0);
    assert.equal(u.total.rssBytes, u.main.rssBytes + u.children.rssBytes);
    assert.ok(u.main.pssBytes > 0 && u.main.pssBytes <= u.main.rssBytes, 'PSS is read and at most RSS');
    assert.equal(u.total.pssBytes, u.main.pssBytes + u.children.pssBytes);
  } finally {
    if (childPid) process.kill(childPid, 'SIGKILL');
    parent.kill('SIGKILL');
    await exited;
  }
  assert.equal(treeUsage(parent.pid), undefined, 'a process that is gone reads as undefined');
});

test('CPU lists parse and print as taskset writes them', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList('3,1,1'), [1, 3]);
  assert.equal(formatCpuList([0, 1, 2, 3, 8, 10, 11]), '0-3,8,10-11');
  assert.throws(() => parseCpuList('a-b'), /not a CPU list/);
  assert.throws(() => parseCpuList('3-1'), /backwards/);
});

test('members get disjoint CPUs when there are enough, and share with a note when not', () => {
  assert.deepEqual(planMemberCpus(3, 4, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), { members: ['0-3', '4-7', '8-11'], shared: false });
  const few = planMemberCpus(3, 1, [0, 1]);
  assert.deepEqual(few.members, ['0', '1', '0']);
  assert.equal(few.shared, true);
  assert.match(few.note!, /need 3 CPUs but only 2/);
  assert.deepEqual(planMemberCpus(2, 4, [0, 1]).members, ['0-1', '0-1']);
});
