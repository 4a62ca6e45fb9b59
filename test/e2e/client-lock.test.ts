/**
 * The Lock recipe of @deimos/client against a real deimos: mutual exclusion among concurrent
 * holders (checked with a "holder" key that only a create can take), FIFO hand-over on release,
 * abort while waiting, expiry of a holder that stops refreshing, and release on SIGTERM.
 *
 * e2e-lane: beside (mostly waiting: 3 s of CPU in 8 s alone; see scripts/run-tests.mjs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeimosError, Lock } from '@deimos/client';
import { withDeadline } from '../support/deimos-cluster.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { oneMemberWithClients } from './client-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `script` (an ES module) in a child node from the repository root until it exits by itself: its code and output. */
async function runToExit(script: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await withDeadline(new Promise<number | null>((resolve) => child.once('exit', resolve)), 10_000, 'the child to exit by itself');
  return { code, output };
}

describe('Lock', { skip: SKIP }, () => {
  const { server, newClient } = oneMemberWithClients();

  test('never lets two holders in at once, and every critical section runs', async () => {
    const name = uniqueKey('mutex').slice(1);
    const holderKey = uniqueKey('holder');
    const counterKey = uniqueKey('counter');
    const admin = newClient();
    await admin.set(counterKey, '0');
    const WORKERS = 5;
    const ROUNDS = 4;
    const order: string[] = [];
    const worker = async (w: number) => {
      const client = newClient();
      for (let r = 0; r < ROUNDS; r++) {
        const lock = new Lock(client, name, { ttl: 10, value: `w${w}` });
        await lock.acquire();
        assert.ok(lock.held);
        // Only one holder can create the holder key; a second one would get 105.
        await client.create(holderKey, `w${w}`);
        order.push(`w${w}`);
        const n = Number((await client.get(counterKey)).node!.value);
        await new Promise((res) => setImmediate(res));
        await client.set(counterKey, String(n + 1));
        await client.delete(holderKey, { prevValue: `w${w}` });
        await lock.release();
        assert.equal(lock.held, false);
      }
    };
    await withDeadline(Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w))), 60_000, 'every worker to finish');
    assert.equal((await admin.get(counterKey)).node!.value, String(WORKERS * ROUNDS));
    assert.equal(order.length, WORKERS * ROUNDS);
    const queue = await admin.get(`/locks/${name}`);
    assert.equal(queue.node?.nodes, undefined, 'no queue keys left');
  });

  test('hands the lock to waiters in the order they queued', async () => {
    const name = uniqueKey('fifo').slice(1);
    const first = new Lock(newClient(), name, { ttl: 10 });
    await first.acquire();
    const got: number[] = [];
    const waiters = [1, 2, 3].map((i) => new Lock(newClient(), name, { ttl: 10 }));
    const admin = newClient();
    const pending: Array<Promise<void>> = [];
    for (const [i, l] of waiters.entries()) {
      pending.push(l.acquire().then(async () => {
        got.push(i);
        await l.release();
      }));
      // Queue them one after another: wait until this waiter's key exists.
      await waitFor(() => l.key !== undefined, { timeoutMs: 5_000, what: `waiter ${i} to queue` });
    }
    const queued = await admin.get(`/locks/${name}`, { sorted: true });
    assert.equal(queued.node?.nodes?.length, 4);
    await first.release();
    await withDeadline(Promise.all(pending), 20_000, 'all waiters');
    assert.deepEqual(got, [0, 1, 2]);
  });

  test('an aborted acquire leaves the queue', async () => {
    const name = uniqueKey('abort').slice(1);
    const holder = new Lock(newClient(), name, { ttl: 10 });
    await holder.acquire();
    const waiter = new Lock(newClient(), name, { ttl: 10 });
    const ac = new AbortController();
    const acquiring = waiter.acquire(ac.signal);
    await waitFor(() => waiter.key !== undefined, { timeoutMs: 5_000, what: 'the waiter to queue' });
    ac.abort();
    await assert.rejects(acquiring, (err: Error) => err.name === 'AbortError');
    const admin = newClient();
    const queue = await admin.get(`/locks/${name}`);
    assert.deepEqual(queue.node?.nodes?.map((n) => n.key), [holder.key]);
    await holder.release();
  });

  test('passes on within its TTL after the holder stops refreshing without releasing', async (t) => {
    const name = uniqueKey('expire').slice(1);
    const deadClient = newClient();
    const holder = new Lock(deadClient, name, { ttl: 2, releaseOnExit: false });
    await holder.acquire();
    const waiter = new Lock(newClient(), name, { ttl: 2 });
    const acquiring = waiter.acquire();
    await waitFor(() => waiter.key !== undefined, { timeoutMs: 5_000, what: 'the waiter to queue' });
    // A negative check needs a wait: 3 s is longer than the TTL, so only refreshes can keep it held.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(waiter.held, false, 'refreshes keep the lock past its TTL');
    const stoppedAt = Date.now();
    deadClient.close(); // the holder's refreshes stop, nothing deletes its key: a crashed holder
    await withDeadline(acquiring, 10_000, 'the waiter to get the expired lock');
    const tookMs = Date.now() - stoppedAt;
    t.diagnostic(`lock passed on ${tookMs} ms after the holder stopped refreshing (TTL 2 s)`);
    assert.ok(tookMs <= 4_000, `took ${tookMs} ms`);
    assert.ok(waiter.held);
    await waiter.release();
  });

  test('a holder whose refreshes stop landing counts the lock as lost before the cluster lets a waiter in', async (t) => {
    const name = uniqueKey('lease').slice(1);
    const cutOff = newClient();
    let lostAt: number | undefined;
    const holder = new Lock(cutOff, name, { ttl: 2, releaseOnExit: false, onLost: () => (lostAt ??= Date.now()) });
    await holder.acquire();
    const waiter = new Lock(newClient(), name, { ttl: 2 });
    let acquiredAt: number | undefined;
    const acquiring = waiter.acquire().then(() => void (acquiredAt = Date.now()));
    await waitFor(() => waiter.key !== undefined, { timeoutMs: 5_000, what: 'the waiter to queue' });
    const cutAt = Date.now();
    cutOff.close(); // every refresh fails from now on, as against a cluster that does not answer
    await withDeadline(acquiring, 10_000, 'the waiter to get the expired lock');
    t.diagnostic(`holder gave up ${lostAt! - cutAt} ms after the cut, the waiter got the lock ${acquiredAt! - cutAt} ms after it`);
    assert.ok(lostAt !== undefined && lostAt < acquiredAt!, 'the holder knew it lost the lock before the waiter got it');
    assert.equal(holder.held, false);
    await waiter.release();
  });

  test('a waiter whose queue key disappears queues again instead of giving up', async () => {
    const name = uniqueKey('requeue').slice(1);
    const holder = new Lock(newClient(), name, { ttl: 10 });
    await holder.acquire();
    const waiter = new Lock(newClient(), name, { ttl: 10 });
    let settled = false;
    const acquiring = waiter.acquire().finally(() => (settled = true));
    await waitFor(() => waiter.key !== undefined, { timeoutMs: 5_000, what: 'the waiter to queue' });
    const first = waiter.key!;
    await newClient().delete(first); // as if it expired while the cluster could not be reached
    await waitFor(() => waiter.key !== undefined && waiter.key !== first, { timeoutMs: 10_000, what: 'the waiter to queue again' });
    assert.equal(settled, false, 'still waiting');
    await holder.release();
    await withDeadline(acquiring, 10_000, 'the waiter to get the lock');
    assert.ok(waiter.held);
    await waiter.release();
  });

  test('a process that ends normally while holding the lock releases it on the way out', async () => {
    const name = uniqueKey('before-exit').slice(1);
    const script = `
      import { DeimosClient, DeimosError, Lock } from '@deimos/client';
      const lock = new Lock(new DeimosClient({ endpoints: [${JSON.stringify(server().clientUrl)}] }), ${JSON.stringify(name)}, { ttl: 60 });
      await lock.acquire();
      console.log(lock.key);
    `;
    const { code, output } = await runToExit(script);
    assert.equal(code, 0, output);
    const admin = newClient();
    await assert.rejects(admin.get(output.trim()), (err: unknown) => err instanceof DeimosError && err.errorCode === 100);
  });

  test('a process that closes its client while holding a lock exits without trying a delete through the closed client', async () => {
    const name = uniqueKey('closed').slice(1);
    const script = `
      import { DeimosClient, Lock } from '@deimos/client';
      const client = new DeimosClient({ endpoints: [${JSON.stringify(server().clientUrl)}] });
      const lock = new Lock(client, ${JSON.stringify(name)}, { ttl: 60 });
      await lock.acquire();
      client.close();
    `;
    const { code, output } = await runToExit(script);
    assert.equal(code, 0, output);
    assert.equal(output, '', 'no warning: the closed client was not asked to delete the key');
  });

  test('a process holding the lock releases it on SIGTERM', async () => {
    const name = uniqueKey('sigterm').slice(1);
    const script = `
      import { DeimosClient, DeimosError, Lock } from '@deimos/client';
      const lock = new Lock(new DeimosClient({ endpoints: [${JSON.stringify(server().clientUrl)}] }), ${JSON.stringify(name)}, { ttl: 60 });
      await lock.acquire();
      console.log('held');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<string | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      await waitFor(() => output.includes('held'), { timeoutMs: 10_000, what: `the child to hold the lock (${output})` });
      const waiter = new Lock(newClient(), name, { ttl: 10 });
      const acquiring = waiter.acquire();
      await waitFor(() => waiter.key !== undefined, { timeoutMs: 5_000, what: 'the waiter to queue' });
      child.kill('SIGTERM');
      assert.equal(await withDeadline(exited, 5_000, 'the child to exit'), 'SIGTERM', 'it still ends by the signal');
      await withDeadline(acquiring, 5_000, 'the waiter to get the lock long before the 60 s TTL');
      await waiter.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
