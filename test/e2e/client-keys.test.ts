/**
 * @deimos/client against one real deimos process: every keys method with its typed result and
 * typed errors, both path families, watches (one event, resuming from an index, history cleared),
 * the members API, health, endpoint sync, and failure reporting when no endpoint answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClientClosedError, ClusterUnavailableError, DeimosClient, DeimosError, HistoryClearedError,
} from '@deimos/client';
import { DeimosProcess } from '../support/deimos-process.js';
import { freePorts } from '../support/ports.js';
import { uniqueKey } from '../support/keys-target.js';

async function rejectsWith(promise: Promise<unknown>, errorCode: number): Promise<DeimosError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DeimosError, `expected a DeimosError, got ${String(err)}`);
    assert.equal(err.errorCode, errorCode, `errorCode of ${err.message} (${err.cause})`);
    return err;
  }
  assert.fail(`expected errorCode ${errorCode}, the call succeeded`);
}

describe('DeimosClient keys API on one member', () => {
  let server: DeimosProcess;
  let client: DeimosClient;

  before(async () => {
    server = await DeimosProcess.start({ args: ['--history-size', '1000'] });
    client = new DeimosClient({ endpoints: [server.clientUrl] });
  });

  after(async () => {
    client?.close();
    await server?.destroy();
  });

  test('set creates (201) and replaces a key, with index headers and prevNode', async () => {
    const key = uniqueKey('set');
    const first = await client.set(key, 'v1', { ttl: 60 });
    assert.equal(first.action, 'set');
    assert.equal(first.node?.key, key);
    assert.equal(first.node?.value, 'v1');
    assert.equal(first.node?.ttl, 60);
    assert.equal(first.etcdIndex, first.node?.modifiedIndex);
    assert.ok((first.raftIndex ?? 0) > 0 && (first.raftTerm ?? 0) > 0);
    assert.match(first.clusterId ?? '', /^[0-9a-f]+$/);
    const second = await client.set(key, 'v2');
    assert.equal(second.prevNode?.value, 'v1');
    assert.equal(second.node?.ttl, undefined, 'a set without ttl makes the key permanent');
  });

  test('get reads values, directories recursively and sorted, serializable and quorum', async () => {
    const dir = uniqueKey('get');
    await client.set(`${dir}/b`, '2');
    await client.set(`${dir}/a`, '1');
    await client.set(`${dir}/sub/c`, '3');
    const flat = await client.get(dir, { sorted: true });
    assert.deepEqual(flat.node?.nodes?.map((n) => n.key), [`${dir}/a`, `${dir}/b`, `${dir}/sub`]);
    assert.equal(flat.node?.nodes?.[2]?.nodes, undefined);
    const deep = await client.get(dir, { recursive: true, sorted: true });
    assert.equal(deep.node?.nodes?.[2]?.nodes?.[0]?.value, '3');
    assert.equal((await client.get(`${dir}/a`, { serializable: true })).node?.value, '1');
    assert.equal((await client.get(`${dir}/a`, { quorum: true })).node?.value, '1');
    const missing = await rejectsWith(client.get(`${dir}/nope`), 100);
    assert.equal(missing.status, 404);
    assert.equal(missing.cause, `${dir}/nope`);
    assert.ok(missing.index > 0);
  });

  test('keys with spaces, question marks and unicode round-trip', async () => {
    const key = `${uniqueKey('enc')}/a b?c=d&é`;
    await client.set(key, 'x&y=z');
    const got = await client.get(key);
    assert.equal(got.node?.key, key);
    assert.equal(got.node?.value, 'x&y=z');
  });

  test('create succeeds once, then fails with 105', async () => {
    const key = uniqueKey('create');
    const res = await client.create(key, 'v', { ttl: 30 });
    assert.equal(res.action, 'create');
    const err = await rejectsWith(client.create(key, 'w'), 105);
    assert.equal(err.status, 412);
  });

  test('createInOrder appends keys named by increasing indexes', async () => {
    const dir = uniqueKey('queue');
    const a = await client.createInOrder(dir, 'first');
    const b = await client.createInOrder(dir, 'second', { ttl: 30 });
    assert.equal(a.action, 'create');
    assert.ok(a.node!.key! < b.node!.key!);
    assert.match(a.node!.key!, /\/\d{20}$/);
    assert.equal(b.node?.ttl, 30);
  });

  test('update needs an existing key and keeps createdIndex', async () => {
    const key = uniqueKey('update');
    await rejectsWith(client.update(key, 'v'), 100);
    const created = await client.set(key, 'v1');
    const updated = await client.update(key, 'v2', { ttl: 20 });
    assert.equal(updated.action, 'update');
    assert.equal(updated.node?.createdIndex, created.node?.createdIndex);
    assert.equal(updated.node?.ttl, 20);
  });

  test('set with prevValue/prevIndex is a compareAndSwap and fails with 101 on mismatch', async () => {
    const key = uniqueKey('cas');
    const v1 = await client.set(key, 'a');
    const swapped = await client.set(key, 'b', { prevValue: 'a', prevIndex: v1.node!.modifiedIndex! });
    assert.equal(swapped.action, 'compareAndSwap');
    const err = await rejectsWith(client.set(key, 'c', { prevValue: 'a' }), 101);
    assert.equal(err.cause, '[a != b]');
    assert.equal((await client.set(key, 'c', { prevExist: true })).action, 'update');
    const quiet = await client.set(key, 'd', { noValueOnSuccess: true });
    assert.equal(quiet.node, undefined);
  });

  test('mkdir, setdir and updatedir manage directories', async () => {
    const dir = uniqueKey('dirs');
    const made = await client.mkdir(dir);
    assert.equal(made.node?.dir, true);
    await rejectsWith(client.mkdir(dir), 105);
    const ttl = await client.updatedir(dir, { ttl: 40 });
    assert.equal(ttl.action, 'update');
    assert.equal(ttl.node?.ttl, 40);
    const file = uniqueKey('file-to-dir');
    await client.set(file, 'x');
    const setdir = await client.setdir(file);
    assert.equal(setdir.node?.dir, true);
    await rejectsWith(client.setdir(dir), 102);
  });

  test('refresh resets the TTL without changing the value or waking watchers', async () => {
    const key = uniqueKey('refresh');
    await client.set(key, 'keep', { ttl: 5 });
    const watching = client.watchOnce(key);
    const refreshed = await client.refresh(key, 50);
    assert.equal(refreshed.node?.value, 'keep');
    assert.equal(refreshed.node?.ttl, 50);
    const changed = await client.set(key, 'changed');
    const event = await watching;
    assert.equal(event.action, 'set', 'the watcher saw the set, not the refresh');
    assert.equal(event.node?.modifiedIndex, changed.node?.modifiedIndex);
    await rejectsWith(client.refresh(uniqueKey('refresh-missing'), 5), 100);
  });

  test('delete removes files, directories, and compares by value or index', async () => {
    const dir = uniqueKey('del');
    await client.set(`${dir}/f`, 'v');
    await rejectsWith(client.delete(dir), 102);
    await rejectsWith(client.delete(dir, { dir: true }), 108);
    const f = await client.get(`${dir}/f`);
    await rejectsWith(client.delete(`${dir}/f`, { prevValue: 'other' }), 101);
    const cad = await client.delete(`${dir}/f`, { prevIndex: f.node!.modifiedIndex! });
    assert.equal(cad.action, 'compareAndDelete');
    assert.equal(cad.prevNode?.value, 'v');
    assert.equal((await client.delete(dir, { dir: true })).action, 'delete');
    await client.set(`${dir}/x/y`, 'v');
    assert.equal((await client.delete(dir, { recursive: true })).action, 'delete');
    await rejectsWith(client.get(dir), 100);
  });

  test('watchOnce returns the next event, or the first at waitIndex from history', async () => {
    const key = uniqueKey('watch-once');
    const next = client.watchOnce(key);
    const written = await client.set(key, 'w1');
    const event = await next;
    assert.equal(event.node?.value, 'w1');
    await client.set(key, 'w2');
    const past = await client.watchOnce(key, { waitIndex: written.node!.modifiedIndex! });
    assert.equal(past.node?.value, 'w1');
  });

  test('watch yields every event in order from afterIndex, and stops on abort', async () => {
    const dir = uniqueKey('watch-iter');
    const start = await client.set(`${dir}/seed`, '0');
    for (let i = 1; i <= 5; i++) await client.set(`${dir}/k${i}`, String(i));
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of client.watch(dir, { recursive: true, afterIndex: start.etcdIndex, signal: ac.signal })) {
        seen.push(ev.node!.value!);
        if (seen.length === 8) ac.abort();
      }
    })();
    // Expect the abort before writing: the watch can see the last event (and abort) before that
    // write's own answer arrives, and a rejection nobody awaits yet fails the test as unhandled.
    const aborted = assert.rejects(done, (err: Error) => err.name === 'AbortError');
    for (let i = 6; i <= 8; i++) await client.set(`${dir}/k${i}`, String(i));
    await aborted;
    assert.deepEqual(seen, ['1', '2', '3', '4', '5', '6', '7', '8']);
  });

  test('a watch from an index older than the history ends with HistoryClearedError', async () => {
    const key = uniqueKey('history');
    const first = await client.set(key, '0');
    // The history is 1000 events here: push the first write out of it.
    for (let batch = 0; batch < 21; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.set(`${key}-filler${i}`, String(batch))));
    }
    const it = client.watch(key, { afterIndex: first.etcdIndex - 1 });
    await assert.rejects(it.next(), (err: unknown) => err instanceof HistoryClearedError && err.errorCode === 401);
  });

  test('the original /keys path family works the same', async () => {
    const legacy = new DeimosClient({ endpoints: [server.clientUrl], keysPrefix: '/keys', sync: false });
    try {
      const key = uniqueKey('legacy');
      await legacy.set(key, 'old-style');
      assert.equal((await client.get(key)).node?.value, 'old-style');
    } finally {
      legacy.close();
    }
  });

  test('members, leader, health and sync describe the one member', async () => {
    const members = await client.members();
    assert.equal(members.length, 1);
    assert.deepEqual(members[0]!.clientURLs, [server.clientUrl]);
    assert.equal((await client.leader()).id, members[0]!.id);
    assert.equal(await client.health(server.clientUrl), true);
    assert.deepEqual(await client.sync(), [server.clientUrl]);
    assert.deepEqual(client.endpoints, [server.clientUrl]);
    await assert.rejects(client.removeMember('ffff'), (err: unknown) => err instanceof DeimosError && err.status === 404);
    await assert.rejects(client.updateMember('ffff', ['http://127.0.0.1:1']), (err: unknown) => err instanceof DeimosError && err.status === 404);
  });

  test('sync replaces unreachable configured endpoints with the published client URLs', async () => {
    const [deadPort] = await freePorts(1);
    const c = new DeimosClient({ endpoints: [`http://127.0.0.1:${deadPort}`, server.clientUrl] });
    try {
      const key = uniqueKey('synced');
      await c.set(key, 'v');
      assert.deepEqual(c.endpoints, [server.clientUrl]);
    } finally {
      c.close();
    }
  });

  test('no reachable endpoint gives ClusterUnavailableError with one error per endpoint', async () => {
    const ports = await freePorts(2);
    const c = new DeimosClient({ endpoints: ports.map((p) => `http://127.0.0.1:${p}`), timeoutMs: 1_000 });
    try {
      await assert.rejects(c.get('/x'), (err: unknown) => err instanceof ClusterUnavailableError && err.errors.length === 2);
      // A plain set that never reached a member is safe to report as unavailable too.
      await assert.rejects(c.set('/x', 'v'), (err: unknown) => err instanceof ClusterUnavailableError);
      await assert.rejects(c.health(`http://127.0.0.1:${ports[0]}`), ClusterUnavailableError);
    } finally {
      c.close();
    }
  });

  test('close aborts a pending watch and refuses new requests', async () => {
    const c = new DeimosClient({ endpoints: [server.clientUrl] });
    const pending = c.watchOnce(uniqueKey('closed'));
    await new Promise((r) => setTimeout(r, 100)); // let the watch register (not a correctness wait)
    c.close();
    await assert.rejects(pending, ClientClosedError);
    await assert.rejects(c.get('/'), ClientClosedError);
  });
});
