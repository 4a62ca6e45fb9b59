/**
 * deimosctl service against a real server: register (held until SIGINT, or while a command runs),
 * list, and watch printing the full list after every change, including the expiry of an instance
 * whose registering process was killed with -9 (its heartbeat stopped, its TTL ran out).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { CtlProcess, ctl, memberAndTempDir } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('deimosctl service', { skip: SKIP }, () => {
  const f = memberAndTempDir('deimosctl-service-');

  test('register holds the instance with a heartbeat; list shows it; SIGINT deletes it and exits 0', async () => {
    const reg = CtlProcess.start(['service', 'register', 'web', 'web1', 'http://10.0.0.1:8080', '--ttl', '1', ...f.ep]);
    try {
      await reg.waitForStdout(/^\/services\/web\/web1\n$/);
      // Held across several TTLs: the heartbeat keeps refreshing it.
      for (let i = 0; i < 3; i++) {
        const list = await ctl(['service', 'list', 'web', ...f.ep]);
        assert.deepEqual([list.code, list.stdout], [0, 'web1 http://10.0.0.1:8080\n'], list.stderr);
        await new Promise((r) => setTimeout(r, 700));
      }
      const json = await ctl(['service', 'list', 'web', '-o', 'json', ...f.ep]);
      assert.deepEqual(JSON.parse(json.stdout), [{ id: 'web1', value: 'http://10.0.0.1:8080' }]);
      assert.equal(await reg.stop('SIGINT'), 0, reg.stderr);
    } finally {
      await reg.stop('SIGKILL');
    }
    const after = await ctl(['service', 'list', 'web', ...f.ep]);
    assert.deepEqual([after.code, after.stdout], [0, '']);
  });

  test('register -- command: the command runs registered, the instance goes when it ends, its exit code is kept', async () => {
    const r = await ctl(['service', 'register', 'jobs', 'j1', 'v', ...f.ep, '--',
      'sh', '-c', 'echo "$DEIMOS_SERVICE_KEY"; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, '/services/jobs/j1\n');
    assert.equal((await ctl(['service', 'list', 'jobs', ...f.ep])).stdout, '');
  });

  test('watch prints the list now and after each registration, stop and expiry', async () => {
    const watch = CtlProcess.start(['service', 'watch', 'api', '-o', 'json', ...f.ep]);
    const listings = () => watch.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Array<{ id: string; value: string }>);
    const lastIds = () => (listings().at(-1) ?? []).map((i) => i.id).join(',');
    let a: CtlProcess | undefined;
    let b: CtlProcess | undefined;
    try {
      await watch.waitForStdout(/^\[\]\n/);
      a = CtlProcess.start(['service', 'register', 'api', 'a', 'http://a', '--ttl', '1', ...f.ep]);
      await waitFor(() => lastIds() === 'a', { timeoutMs: 20_000, what: 'the watch to list a' });
      b = CtlProcess.start(['service', 'register', 'api', 'b', 'http://b', '--ttl', '1', ...f.ep]);
      await waitFor(() => lastIds() === 'a,b', { timeoutMs: 20_000, what: 'the watch to list a and b' });
      assert.deepEqual(listings().at(-1), [{ id: 'a', value: 'http://a' }, { id: 'b', value: 'http://b' }]);
      await b.stop('SIGINT'); // deleted at once
      await waitFor(() => lastIds() === 'a', { timeoutMs: 20_000, what: 'the watch to drop b' });
      await a.stop('SIGKILL'); // no heartbeat any more: gone once its TTL runs out
      await waitFor(() => lastIds() === '', { timeoutMs: 30_000, what: `the watch to drop a after its TTL (so far ${watch.stdout})` });
      assert.equal(await watch.stop('SIGINT'), 0, watch.stderr);
    } finally {
      await a?.stop('SIGKILL');
      await b?.stop('SIGKILL');
      await watch.stop('SIGKILL');
    }
  });

  test('missing arguments exit 1 with a usage line', async () => {
    const r = await ctl(['service', 'register', 'web', ...f.ep]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: {2}service name, instance id and value required/);
    const list = await ctl(['service', 'list', ...f.ep]);
    assert.deepEqual([list.code, list.stderr], [1, 'Error:  service name required\n']);
  });
});
