/**
 * deimosctl reads on a member that lost its quorum: `get`, `ls` and `watch` are linearizable by
 * default (they fail, in deimos's words, after --timeout), and `--serializable` answers from the
 * member's own store at once.
 *
 * e2e-lane: beside (mostly waiting out request timeouts on a member without quorum; see
 * scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { ctl } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

describe('deimosctl reads without a quorum', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let alone: DeimosProcess;
  let ep: string[];
  let setIndex = 0;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    const all = cluster.members.map((m) => m.clientUrl).join(',');
    const set = await ctl(['set', '/q/k', 'kept', '-o', 'json', '--endpoints', all]);
    assert.equal(set.code, 0, set.stderr);
    setIndex = JSON.parse(set.stdout).node.modifiedIndex as number;
    alone = cluster.members[0]!;
    ep = ['--endpoints', alone.clientUrl, '--no-sync'];
    // The value must have reached the member left alone before the others go.
    await waitFor(async () => (await ctl(['get', '/q/k', '--serializable', ...ep])).stdout === 'kept\n', { timeoutMs: 20_000, what: 'the value on the remaining member' });
    for (const m of cluster.members.slice(1)) await cluster.stop(m);
  });
  after(async () => {
    await cluster?.destroy();
  });

  test('get --serializable answers from the member\'s store, exit 0', async () => {
    const r = await ctl(['get', '/q/k', '--serializable', ...ep]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'kept\n', '']);
  });

  test('ls --serializable lists from the member\'s store, exit 0', async () => {
    const r = await ctl(['ls', '/q', '--serializable', ...ep]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '/q/k\n', '']);
  });

  test('watch --serializable --after-index replays from the member\'s history, exit 0', async () => {
    const r = await ctl(['watch', '/q/k', '--serializable', '--after-index', String(setIndex - 1), ...ep]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'kept\n', '']);
  });

  test('a default (linearizable) get, ls or watch fails with a line that says a quorum is missing', async () => {
    for (const cmd of [['get', '/q/k'], ['ls', '/q'], ['watch', '/q/k']]) {
      const r = await ctl([...cmd, '--timeout', '2s', ...ep], { timeoutMs: 20_000 });
      assert.notEqual(r.code, 0, `${cmd[0]}: ${r.stdout}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /quorum/, `${cmd[0]}: ${r.stderr}`);
      assert.match(r.stderr, /--serializable/, `${cmd[0]}: ${r.stderr}`);
    }
  });

  test('the help of get, ls and watch says which read is the default', async () => {
    for (const cmd of ['get', 'ls', 'watch']) {
      const r = await ctl([cmd, '--help']);
      assert.equal(r.code, 0);
      const text = r.stdout.replace(/\s+/g, ' ');
      assert.match(text, /--serializable/);
      assert.match(text, /linearizable by default|by default the watch starts linearizably/i, `${cmd}: ${r.stdout}`);
    }
  });
});
