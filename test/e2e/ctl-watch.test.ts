/**
 * deimosctl watch and exec-watch against a real server: one event then exit, --forever with the
 * recursive `[action] key` lines, --after-index replaying history, and a command run per event with
 * the ETCD_WATCH_* / DEIMOS_WATCH_* environment.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { freePorts } from '../support/ports.js';
import { CtlProcess, ctl, memberAndTempDir } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('deimosctl watch and exec-watch', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-watch-');

  const run = (...args: string[]) => ctl([...args, ...f.ep]);

  /** Writes `key` repeatedly until the background watcher prints something (it may register late). */
  async function writeUntilSeen(w: CtlProcess, key: string, value: string): Promise<void> {
    await waitFor(async () => {
      await run('set', key, value);
      return w.stdout.includes(value) || w.code !== undefined;
    }, { timeoutMs: 20_000, intervalMs: 300, what: `watcher to see ${key}` });
  }

  test('watch prints the next value and exits 0', async () => {
    const w = CtlProcess.start(['watch', '/w/one', ...f.ep]);
    await writeUntilSeen(w, '/w/one', 'first');
    assert.equal(await w.exited, 0);
    assert.equal(w.stdout, 'first\n');
  });

  test('watch --after-index replays the next event after that index', async () => {
    const first = JSON.parse((await run('set', '/w/hist', 'h1', '-o', 'json')).stdout).node.modifiedIndex as number;
    await run('set', '/w/hist', 'h2');
    const r = await run('watch', '/w/hist', '--after-index', String(first));
    assert.deepEqual([r.code, r.stdout], [0, 'h2\n']);
    const ext = await run('watch', '/w/hist', '--after-index', String(first - 1), '-o', 'extended');
    assert.match(ext.stdout, /^Key: \/w\/hist\n.*\n\nh1\n$/s);
  });

  test('watch --forever --recursive prints [action] key then the value for every event', async () => {
    const w = CtlProcess.start(['watch', '/w/tree', '--forever', '--recursive', ...f.ep]);
    await writeUntilSeen(w, '/w/tree/a', 'v1');
    await run('set', '/w/tree/b', 'v2');
    await run('rm', '/w/tree/b');
    await w.waitForStdout(/PrevNode\.Value: v2\n$/);
    assert.match(w.stdout, /\[set\] \/w\/tree\/a\nv1\n/);
    assert.match(w.stdout, /\[set\] \/w\/tree\/b\nv2\n\[delete\] \/w\/tree\/b\nPrevNode\.Value: v2\n$/);
    assert.equal(await w.stop('SIGINT'), 0);
  });

  test('watch --forever ends with status 141 once its reader has gone (etcdctl dies of SIGPIPE), and with 143 on SIGTERM', async () => {
    const w = CtlProcess.start(['watch', '/w/pipe', '--forever', ...f.ep]);
    await writeUntilSeen(w, '/w/pipe', 'p1');
    w.child.stdout!.destroy(); // `| head -1` has exited
    // Writes until the watcher has had something to write into the closed pipe.
    await waitFor(async () => {
      await run('set', '/w/pipe', 'more');
      return w.code !== undefined;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'the watcher to end once its reader is gone' });
    assert.equal(w.code, 141);
    const t = CtlProcess.start(['watch', '/w/term', '--forever', ...f.ep]);
    await writeUntilSeen(t, '/w/term', 't1');
    assert.equal(await t.stop('SIGTERM'), 143, 'as etcdctl, which handles only SIGINT');
  });

  test('a watch that no endpoint answers ends with exit 4 and the cluster-unavailable error, as etcdctl\'s', async () => {
    const [port] = await freePorts(1); // nothing listens there
    const r = await ctl(['watch', '/w/none', '--forever', '--after-index', '1', '--no-sync', '--endpoints', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /cluster is unavailable/);
  });

  test('watch -o json prints one JSON document per event', async () => {
    const first = JSON.parse((await run('set', '/w/j', 'a', '-o', 'json')).stdout).node.modifiedIndex as number;
    const r = await run('watch', '/w/j', '--after-index', String(first - 1), '-o', 'json');
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.action, 'set');
    assert.equal(doc.node.value, 'a');
    assert.equal(doc.node.nodes, null);
  });

  test('exec-watch runs the command once per event with the watch environment', async () => {
    const log = join(f.dir, 'events.log');
    const script = `printf '%s %s %s %s %s\\n' "$ETCD_WATCH_ACTION" "$ETCD_WATCH_KEY" "$ETCD_WATCH_VALUE" "$ETCD_WATCH_MODIFIED_INDEX" "$DEIMOS_WATCH_KEY" >> ${log}`;
    const w = CtlProcess.start(['exec-watch', '--recursive', '/ew', ...f.ep, '--', 'sh', '-c', script]);
    await waitFor(async () => {
      await run('set', '/ew/probe', 'p');
      return existsSync(log);
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'exec-watch to run its command' });
    const a = JSON.parse((await run('set', '/ew/x', 'one', '-o', 'json')).stdout).node.modifiedIndex as number;
    await run('set', '/ew/x', 'two');
    await run('rm', '/ew/x');
    await waitFor(() => readFileSync(log, 'utf8').includes('delete /ew/x'), { timeoutMs: 20_000, what: 'the delete event to run the command' });
    // Commands run concurrently, as etcdctl's: one line per event, in any order.
    await waitFor(() => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('/ew/x')).length === 3, { timeoutMs: 20_000, what: 'three commands' });
    const lines = readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.includes('/ew/x'));
    assert.deepEqual(lines.sort(), [`delete /ew/x  ${a + 2} /ew/x`, `set /ew/x one ${a} /ew/x`, `set /ew/x two ${a + 1} /ew/x`]);
    assert.equal(await w.stop('SIGINT'), 0);
  });

  test('exec-watch starts each command without waiting for the previous one, as etcdctl', async () => {
    const log = join(f.dir, 'overlap.log');
    const release = join(f.dir, 'overlap.release');
    // The command for "first" blocks until the release file exists; "second" must run meanwhile.
    const script = `echo "start $ETCD_WATCH_VALUE" >> ${log}; if [ "$ETCD_WATCH_VALUE" = first ]; then while [ ! -e ${release} ]; do sleep 0.05; done; fi; echo "end $ETCD_WATCH_VALUE" >> ${log}`;
    const w = CtlProcess.start(['exec-watch', '/ew3/k', ...f.ep, '--', 'sh', '-c', script]);
    try {
      await waitFor(async () => {
        await run('set', '/ew3/k', 'first');
        return existsSync(log) && readFileSync(log, 'utf8').includes('start first');
      }, { timeoutMs: 20_000, intervalMs: 300, what: 'the blocking command to start' });
      await run('set', '/ew3/k', 'second');
      await waitFor(() => readFileSync(log, 'utf8').includes('end second'), { timeoutMs: 20_000, what: 'the second command to run while the first blocks' });
      assert.ok(!readFileSync(log, 'utf8').includes('end first'), 'the first command is still blocked');
      writeFileSync(release, '');
      await waitFor(() => readFileSync(log, 'utf8').includes('end first'), { timeoutMs: 20_000, what: 'the first command to finish' });
    } finally {
      writeFileSync(release, '');
      await w.stop('SIGINT');
    }
  });

  test('exec-watch stopped by SIGINT passes SIGTERM on to a command still running', async () => {
    const pidFile = join(f.dir, 'ew5.pid');
    const w = CtlProcess.start(['exec-watch', '/ew5/k', ...f.ep, '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`]);
    await waitFor(async () => {
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '') return true;
      await run('set', '/ew5/k', 'x');
      return false;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'the command to start' });
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.equal(await w.stop('SIGINT'), 0);
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, { timeoutMs: 10_000, what: `the command (pid ${pid}) to end` });
  });

  test('exec-watch exits 1 when its command cannot be started', async () => {
    const w = CtlProcess.start(['exec-watch', '/ew4/k', ...f.ep, '--', join(f.dir, 'no-such-command')]);
    await waitFor(async () => {
      if (w.code !== undefined) return true;
      await run('set', '/ew4/k', 'x');
      return false;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'exec-watch to give up' });
    assert.equal(w.code, 1);
    assert.match(w.stderr, /^Error: {2}cannot start \S*no-such-command: .*ENOENT\n/, 'the same line as lock -- CMD');
  });

  test('exec-watch also takes etcdctl\'s `exec-watch CMD... KEY` form, and needs both', async () => {
    const log = join(f.dir, 'legacy.log');
    const script = join(f.dir, 'legacy.sh');
    writeFileSync(script, `echo "$ETCD_WATCH_VALUE" >> ${log}\n`);
    const w = CtlProcess.start(['exec-watch', ...f.ep, 'sh', script, '/ew2/k']);
    await waitFor(async () => {
      await run('set', '/ew2/k', 'legacy');
      return existsSync(log);
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'exec-watch (legacy form) to run its command' });
    assert.match(readFileSync(log, 'utf8'), /^legacy\n/);
    await w.stop('SIGINT');
    const missing = await run('exec-watch', '/only-a-key');
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error:  key and command to exec required\n']);
  });
});
