/**
 * The ServiceRegistry of @deimos/client against a real deimos: registration with heartbeats,
 * discovery, a watch that yields the full list after each change, removal on stop, and an instance
 * that stops heartbeating disappearing within its TTL.
 *
 * e2e-lane: beside (mostly waiting: 1 s of CPU in 6 s alone; see scripts/run-tests.mjs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceRegistry, type ServiceInstance } from '@deimos/client';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { clientPausingAt, oneMemberWithClients } from './client-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('ServiceRegistry', { skip: SKIP }, () => {
  const { server, newClient } = oneMemberWithClients();

  test('registers, discovers, watches and deregisters instances', async () => {
    const prefix = uniqueKey('services');
    const registry = new ServiceRegistry(newClient(), { prefix });
    assert.deepEqual(await registry.discover('api'), []);
    const lists: ServiceInstance[][] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const list of registry.watch('api', ac.signal)) lists.push(list);
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') throw err;
    });
    await waitFor(() => lists.length === 1, { timeoutMs: 5_000, what: 'the initial list' });
    const one = await registry.register('api', 'tcp@10.0.0.1:80', 'weight=1');
    const two = await new ServiceRegistry(newClient(), { prefix }).register('api', 'tcp@10.0.0.2:80', 'weight=2', { ttl: 5 });
    await new ServiceRegistry(newClient(), { prefix }).register('other', 'x', 'y');
    assert.deepEqual(await registry.discover('api'), [
      { id: 'tcp@10.0.0.1:80', value: 'weight=1' },
      { id: 'tcp@10.0.0.2:80', value: 'weight=2' },
    ]);
    await one.stop();
    await waitFor(() => lists.length === 4, { timeoutMs: 5_000, what: `four lists (${JSON.stringify(lists)})` });
    ac.abort();
    await watching;
    assert.deepEqual(lists.map((l) => l.map((i) => i.id)), [
      [], ['tcp@10.0.0.1:80'], ['tcp@10.0.0.1:80', 'tcp@10.0.0.2:80'], ['tcp@10.0.0.2:80'],
    ]);
    await two.stop();
    assert.deepEqual(await registry.discover('api'), []);
  });

  test('the stop of a registration replaced by a later one under the same id leaves the later one registered', async () => {
    const prefix = uniqueKey('services-dup');
    const first = await new ServiceRegistry(newClient(), { prefix }).register('api', 'i1', 'A', { ttl: 5 });
    const second = await new ServiceRegistry(newClient(), { prefix }).register('api', 'i1', 'B', { ttl: 5 });
    const registry = new ServiceRegistry(newClient(), { prefix });
    await first.stop();
    assert.deepEqual(await registry.discover('api'), [{ id: 'i1', value: 'B' }], 'the later registration is kept');
    await second.stop();
    assert.deepEqual(await registry.discover('api'), []);
  });

  test('heartbeats keep an instance past its TTL; it disappears within its TTL once they stop', async (t) => {
    const prefix = uniqueKey('services-ttl');
    const observer = new ServiceRegistry(newClient(), { prefix });
    const dying = newClient();
    await new ServiceRegistry(dying, { prefix }).register('db', 'primary', 'pg://1', { ttl: 2 });
    // A negative check needs a wait: 3 s is longer than the TTL, so only heartbeats can keep it.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual((await observer.discover('db')).map((i) => i.id), ['primary']);
    const lists: ServiceInstance[][] = [];
    const ac = new AbortController();
    const watching = (async () => {
      for await (const list of observer.watch('db', ac.signal)) lists.push(list);
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') throw err;
    });
    await waitFor(() => lists.length === 1, { timeoutMs: 5_000, what: 'the initial list' });
    const stoppedAt = Date.now();
    dying.close(); // heartbeats stop, nothing deletes the key
    await waitFor(async () => (await observer.discover('db')).length === 0, { timeoutMs: 6_000, intervalMs: 100, what: 'the instance to expire' });
    const goneMs = Date.now() - stoppedAt;
    t.diagnostic(`the instance disappeared ${goneMs} ms after its heartbeats stopped (TTL 2 s)`);
    assert.ok(goneMs <= 3_500, `gone after ${goneMs} ms`);
    await waitFor(() => lists.length === 2, { timeoutMs: 5_000, what: 'the watch to report the expiry' });
    ac.abort();
    await watching;
    assert.deepEqual(lists, [[{ id: 'primary', value: 'pg://1' }], []]);
  });

  test('a watch that starts while the member answers nothing waits for it instead of failing', async () => {
    const prefix = uniqueKey('services-outage');
    // The watch's first read finds no member answering.
    const { client, reads, resume } = clientPausingAt(server(), prefix, 1);
    const lists: ServiceInstance[][] = [];
    let failure: Error | undefined;
    const ac = new AbortController();
    const watching = (async () => {
      for await (const list of new ServiceRegistry(client, { prefix }).watch('api', ac.signal)) lists.push(list);
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') failure = err;
    });
    try {
      // The first read timed out (300 ms); the watch either ended or reads again.
      await waitFor(() => reads() >= 2 || failure !== undefined, { timeoutMs: 10_000, what: 'a second read or the end of the watch' });
    } finally {
      resume();
    }
    await waitFor(() => lists.length === 1 || failure !== undefined, { timeoutMs: 10_000, what: 'the first list' });
    assert.equal(failure, undefined);
    assert.deepEqual(lists, [[]]);
    ac.abort();
    await watching;
    client.close();
  });
});
