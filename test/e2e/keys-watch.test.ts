/**
 * Watches (spec §7): long polls, waitIndex history scans, recursion, ancestors, hidden keys,
 * streams, the watch index header, the history window (server started with --history-size 1000),
 * watcher clean-up on disconnect, and history across a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/http.js';
import { assertKeysError, ERROR_MESSAGES, header, KeysClient, parseJsonBody } from '../support/keys-client.js';
import { deimosOnly, KeysTarget, ownServerOnly, PATH_FAMILIES, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { Watch } from '../support/watch.js';

let target: KeysTarget;
const watches: Watch[] = [];

before(async () => {
  target = await KeysTarget.start({ args: ['--history-size', '1000'] });
});

after(async () => {
  for (const w of watches) w.close();
  await target?.destroy();
});

async function watch(url: string): Promise<Watch> {
  const w = await Watch.open(url);
  watches.push(w);
  return w;
}

async function watcherCount(): Promise<number> {
  const res = await http('GET', `${target.clientUrl}/v2/stats/store`);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body).watchers;
}

for (const family of PATH_FAMILIES) {
  describe(`watches on ${family.prefix}`, { skip: family.skip }, () => {
    let keys: KeysClient;
    before(() => {
      keys = new KeysClient(target.clientUrl, family.prefix);
    });

    test('wait=true answers 200 at once with the registration index, then delivers the next event and ends', async () => {
      const key = uniqueKey('long-poll');
      const first = parseJsonBody(await keys.set(key, 'one')).node;
      const w = await watch(keys.url(key, { wait: 'true' }));
      assert.equal(w.status, 200);
      assert.equal(w.header('content-type'), 'application/json');
      assert.equal(w.header('x-etcd-index'), String(first.modifiedIndex), 'X-Etcd-Index is the index at registration');
      assert.match(w.header('x-raft-index') ?? '', /^\d+$/);
      assert.match(w.header('x-raft-term') ?? '', /^\d+$/);
      assert.equal(w.header('transfer-encoding'), 'chunked');
      await keys.set(`${key}-other`, 'not watched');
      const set = parseJsonBody(await keys.set(key, 'two')).node;
      const line = await w.nextLine(5000);
      assert.equal(line, `{"action":"set","node":{"key":"${key}","value":"two","modifiedIndex":${set.modifiedIndex},"createdIndex":${set.createdIndex}},`
        + `"prevNode":{"key":"${key}","value":"one","modifiedIndex":${first.modifiedIndex},"createdIndex":${first.createdIndex}}}`);
      await w.ended;
      assert.equal(await w.nextLine(100), undefined, 'one event per long poll');
    });

    test('a watch on a missing key is woken by its creation', async () => {
      const key = uniqueKey('watch-missing');
      const w = await watch(keys.url(key, { wait: 'true' }));
      assert.equal(w.status, 200);
      await keys.set(key, 'born', { prevExist: 'false' });
      const event = await w.next(5000);
      assert.equal(event.action, 'create');
      assert.equal(event.node.value, 'born');
      assert.equal(event.prevNode, undefined);
    });

    test('several watchers of one key all receive the event', async () => {
      const key = uniqueKey('fan-out');
      const ws = await Promise.all([1, 2, 3].map(() => watch(keys.url(key, { wait: 'true' }))));
      const del = parseJsonBody(await keys.set(key, 'v')).node;
      for (const w of ws) assert.equal((await w.next(5000)).node.modifiedIndex, del.modifiedIndex);
    });

    test('delete and compare-and-delete events carry the prevNode', async () => {
      const key = uniqueKey('watch-delete');
      await keys.set(key, 'v');
      const w1 = await watch(keys.url(key, { wait: 'true' }));
      await keys.delete(key);
      const del = await w1.next(5000);
      assert.equal(del.action, 'delete');
      assert.equal(del.node.value, undefined);
      assert.equal(del.prevNode.value, 'v');
      await keys.set(key, 'w');
      const w2 = await watch(keys.url(key, { wait: 'true' }));
      await keys.delete(key, { prevValue: 'w' });
      const cad = await w2.next(5000);
      assert.equal(cad.action, 'compareAndDelete');
      assert.equal(cad.prevNode.value, 'w');
    });

    test('waitIndex returns the first matching event from history at once, with X-Etcd-Index at the current index', async () => {
      const key = uniqueKey('history');
      const a = parseJsonBody(await keys.set(key, 'a')).node;
      await keys.set(`${key}-noise`, 'x');
      const b = parseJsonBody(await keys.set(key, 'b')).node;
      await keys.set(key, 'c');
      const current = await keys.index();
      const w = await watch(keys.url(key, { wait: 'true', waitIndex: String(a.modifiedIndex + 1) }));
      assert.equal(w.status, 200);
      assert.equal(w.header('x-etcd-index'), String(current));
      const event = await w.next(2000);
      assert.equal(event.action, 'set');
      assert.equal(event.node.value, 'b');
      assert.equal(event.node.modifiedIndex, b.modifiedIndex);
      assert.equal(event.prevNode.value, 'a');
      const exact = await watch(keys.url(key, { wait: 'true', waitIndex: String(a.modifiedIndex) }));
      assert.equal((await exact.next(2000)).node.value, 'a', 'waitIndex equal to the event index matches it');
    });

    test('an event from history shows the ttls of its own moment, as the writer was answered', async () => {
      const key = uniqueKey('history-ttl');
      const first = parseJsonBody(await keys.set(key, 'a', { ttl: '100' })).node;
      assert.equal(first.ttl, 100);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const second = parseJsonBody(await keys.set(key, 'b', { ttl: '50' }));
      assert.ok(second.prevNode.ttl < 100, 'a second passed before the second write');
      // Read from the history at least a second later: a ttl counted at the read would be lower.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const fromFirst = await (await watch(keys.url(key, { wait: 'true', waitIndex: String(first.modifiedIndex) }))).next(2000);
      assert.deepEqual([fromFirst.node.value, fromFirst.node.ttl], ['a', 100]);
      const fromSecond = await (await watch(keys.url(key, { wait: 'true', waitIndex: String(first.modifiedIndex + 1) }))).next(2000);
      assert.deepEqual([fromSecond.node.ttl, fromSecond.prevNode.ttl], [second.node.ttl, second.prevNode.ttl]);
      assert.equal(fromSecond.node.expiration, second.node.expiration);
    });

    test('waitIndex past the current index waits for a future event', async () => {
      const key = uniqueKey('future');
      await keys.set(key, 'a');
      const current = await keys.index();
      const w = await watch(keys.url(key, { wait: 'true', waitIndex: String(current + 2) }));
      await keys.set(key, 'skipped');
      const wanted = parseJsonBody(await keys.set(key, 'wanted')).node;
      assert.equal(wanted.modifiedIndex, current + 2);
      const event = await w.next(5000);
      assert.equal(event.node.value, 'wanted');
    });

    test('waitIndex=0 waits for the next event like no waitIndex', async () => {
      const key = uniqueKey('wait-index-zero');
      await keys.set(key, 'old');
      const w = await watch(keys.url(key, { wait: 'true', waitIndex: '0' }));
      const next = parseJsonBody(await keys.set(key, 'new')).node;
      const event = await w.next(5000);
      assert.equal(event.node.modifiedIndex, next.modifiedIndex);
    });

    test('a recursive stream sees every event in index order under concurrent writes', async () => {
      const dir = uniqueKey('stream-order');
      const w = await watch(keys.url(dir, { wait: 'true', recursive: 'true', stream: 'true' }));
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => keys.set(`${dir}/k${i % 5}`, String(i))));
      const written = results.map((r) => parseJsonBody(r).node.modifiedIndex as number).sort((a, b) => a - b);
      const seen: number[] = [];
      while (seen.length < written.length) seen.push((await w.next(5000)).node.modifiedIndex);
      assert.deepEqual(seen, written);
      w.close();
    });

    test('recursive=true delivers events on any descendant', async () => {
      const dir = uniqueKey('recursive');
      await keys.put(dir, { dir: 'true' });
      const w = await watch(keys.url(dir, { wait: 'true', recursive: 'true' }));
      await keys.set(`${dir}-sibling`, 'not below');
      await keys.set(`${dir}/a/b/c`, 'deep');
      const event = await w.next(5000);
      assert.equal(event.node.key, `${dir}/a/b/c`);
      assert.equal(event.node.value, 'deep');
    });

    test('a non-recursive watch on a directory ignores children and sees the directory itself', async () => {
      const dir = uniqueKey('dir-only');
      await keys.set(`${dir}/child`, 'v');
      const w = await watch(keys.url(dir, { wait: 'true' }));
      await keys.set(`${dir}/child`, 'w');
      await keys.set(`${dir}/other`, 'x');
      await keys.delete(dir, { recursive: 'true' });
      const event = await w.next(5000);
      assert.equal(event.action, 'delete');
      assert.equal(event.node.key, dir);
      assert.equal(event.node.dir, true);
    });

    test('deleting an ancestor directory notifies the watcher of a child', async () => {
      const top = uniqueKey('ancestor');
      await keys.set(`${top}/a/b/c`, 'v');
      const w = await watch(keys.url(`${top}/a/b/c`, { wait: 'true' }));
      const del = parseJsonBody(await keys.delete(`${top}/a`, { recursive: 'true' })).node;
      const event = await w.next(5000);
      assert.equal(event.action, 'delete');
      assert.equal(event.node.key, `${top}/a`);
      assert.equal(event.node.modifiedIndex, del.modifiedIndex);
    });

    test('deleting a directory leaves waiting a watcher of a path it never held (etcd notifies the removed paths only)', async () => {
      const top = uniqueKey('never-held');
      await keys.set(`${top}/a/held`, 'v');
      const never = await watch(keys.url(`${top}/a/never`, { wait: 'true' }));
      const neverRecursive = await watch(keys.url(`${top}/a/held/below`, { wait: 'true', recursive: 'true' }));
      const held = await watch(keys.url(`${top}/a/held`, { wait: 'true' }));
      const del = parseJsonBody(await keys.delete(`${top}/a`, { recursive: 'true' })).node;
      assert.equal((await held.next(5000)).node.modifiedIndex, del.modifiedIndex);
      // Their next event is the one that makes each path, not the deletion.
      const made = parseJsonBody(await keys.set(`${top}/a/never`, 'n')).node;
      assert.equal((await never.next(5000)).node.modifiedIndex, made.modifiedIndex);
      const below = parseJsonBody(await keys.set(`${top}/a/held/below/x`, 'x')).node;
      assert.equal((await neverRecursive.next(5000)).node.modifiedIndex, below.modifiedIndex);
      // A history scan from the deletion's index matches any path below it, as etcd's does.
      const scanned = await keys.get(`${top}/a/never`, { wait: 'true', waitIndex: String(del.modifiedIndex) });
      assert.equal(parseJsonBody(scanned).node.key, `${top}/a`);
    });

    test('events on hidden keys are not delivered live to recursive watchers of a parent, but reach a direct watcher', async () => {
      const dir = uniqueKey('hidden-watch');
      await keys.put(dir, { dir: 'true' });
      const parent = await watch(keys.url(dir, { wait: 'true', recursive: 'true' }));
      const direct = await watch(keys.url(`${dir}/_hidden`, { wait: 'true' }));
      const hidden = parseJsonBody(await keys.set(`${dir}/_hidden`, 'h')).node;
      await keys.set(`${dir}/_hdir/inner`, 'i');
      const visible = parseJsonBody(await keys.set(`${dir}/visible`, 'v')).node;
      const event = await parent.next(5000);
      assert.equal(event.node.key, `${dir}/visible`, `the first live event is the visible one: ${JSON.stringify(event)}`);
      assert.equal(event.node.modifiedIndex, visible.modifiedIndex);
      const directEvent = await direct.next(5000);
      assert.equal(directEvent.node.key, `${dir}/_hidden`);
      assert.equal(directEvent.node.modifiedIndex, hidden.modifiedIndex);
      const scan = await watch(keys.url(dir, { wait: 'true', recursive: 'true', waitIndex: String(hidden.modifiedIndex) }));
      assert.equal((await scan.next(2000)).node.key, `${dir}/_hidden`, 'history scans do return hidden-key events');
    });

    test('stream=true delivers several events on one response, one JSON line each', async () => {
      const key = uniqueKey('stream');
      const w = await watch(keys.url(key, { wait: 'true', stream: 'true', recursive: 'true' }));
      assert.equal(w.status, 200);
      const written: number[] = [];
      for (const v of ['1', '2', '3']) {
        written.push(parseJsonBody(await keys.set(`${key}/${v}`, v)).node.modifiedIndex);
        const event = await w.next(5000);
        assert.equal(event.node.value, v);
        assert.equal(event.node.modifiedIndex, written.at(-1));
      }
      await keys.delete(key, { recursive: 'true' });
      assert.equal((await w.next(5000)).action, 'delete');
      assert.equal(w.isEnded, false, 'the stream stays open');
      w.close();
    });

    test('wait=true on a write is rejected with 209', async () => {
      const key = uniqueKey('wait-put');
      assertKeysError(await keys.set(key, 'v', { wait: 'true' }), { status: 400, errorCode: 209, cause: '"wait" can only be used with GET requests', index: 0 });
      assertKeysError(await keys.delete(key, { wait: 'true' }), { status: 400, errorCode: 209, index: 0 });
    });

    test('a bad waitIndex is rejected with 203', async () => {
      const key = uniqueKey('bad-wait-index');
      assertKeysError(await keys.get(key, { wait: 'true', waitIndex: 'soon' }), { status: 400, errorCode: 203, cause: 'invalid value for "waitIndex"', index: 0 });
    });
  });
}

describe('watch bookkeeping and history window', () => {
  test('a watcher that disconnects is removed from the watcher count', async () => {
    const keys = new KeysClient(target.clientUrl);
    const base = await watcherCount();
    const key = uniqueKey('disconnect');
    const ws = await Promise.all([1, 2, 3].map((i) => watch(keys.url(`${key}/${i}`, { wait: 'true' }))));
    await waitFor(async () => (await watcherCount()) === base + 3, { timeoutMs: 5000, what: 'three more watchers' });
    for (const w of ws) w.close();
    await waitFor(async () => (await watcherCount()) === base, { timeoutMs: 5000, what: 'the watchers to be removed after the disconnects' });
    const streamed = await watch(keys.url(key, { wait: 'true', stream: 'true' }));
    await waitFor(async () => (await watcherCount()) === base + 1, { timeoutMs: 5000, what: 'the stream watcher' });
    streamed.close();
    await waitFor(async () => (await watcherCount()) === base, { timeoutMs: 5000, what: 'the stream watcher to be removed' });
  });

  test('a waitIndex older than the 1000-event history answers 401 (HTTP 400) naming the oldest index', async () => {
    const keys = new KeysClient(target.clientUrl);
    const dir = uniqueKey('window');
    const first = parseJsonBody(await keys.set(`${dir}/first`, 'f')).node;
    let next = 0;
    const writer = async () => {
      while (next < 1010) {
        const i = next++;
        const res = await keys.set(`${dir}/k${i % 50}`, String(i));
        assert.ok(res.status === 200 || res.status === 201, res.body);
      }
    };
    await Promise.all(Array.from({ length: 16 }, writer));
    const current = await keys.index();
    const oldest = current - 999;
    assert.ok(first.modifiedIndex < oldest);
    const res = await keys.get(dir, { wait: 'true', recursive: 'true', waitIndex: String(first.modifiedIndex) });
    assertKeysError(res, {
      status: 400, errorCode: 401, message: ERROR_MESSAGES[401],
      cause: `the requested history has been cleared [${oldest}/${first.modifiedIndex}]`, index: current,
    });
    const edge = await keys.get(dir, { wait: 'true', recursive: 'true', waitIndex: String(oldest - 1) });
    assertKeysError(edge, { status: 400, errorCode: 401, cause: `the requested history has been cleared [${oldest}/${oldest - 1}]` });
    const w = await watch(keys.url(dir, { wait: 'true', recursive: 'true', waitIndex: String(oldest) }));
    assert.equal(w.status, 200);
    assert.equal((await w.next(2000)).node.modifiedIndex, oldest, 'the oldest kept event is still returned');
  });

  test('events survive a restart: an old waitIndex still returns the old event', ownServerOnly('restarts the server'), async () => {
    const keys = new KeysClient(target.clientUrl);
    const key = uniqueKey('after-restart');
    const a = parseJsonBody(await keys.set(key, 'before-restart')).node;
    await keys.set(key, 'second');
    await target.deimos.restart();
    const res = await http('GET', keys.url(key, { wait: 'true', waitIndex: String(a.modifiedIndex) }), { timeoutMs: 5000 });
    assert.equal(res.status, 200, res.body);
    const event = parseJsonBody(res);
    assert.equal(event.action, 'set');
    assert.equal(event.node.value, 'before-restart');
    assert.equal(event.node.modifiedIndex, a.modifiedIndex);
    const w = await watch(keys.url(key, { wait: 'true' }));
    await keys.set(key, 'live');
    assert.equal((await w.next(5000)).node.value, 'live', 'live watches work after the restart');
  });

  test('watches on /keys and /v2/keys see the same events', deimosOnly('the /keys path family does not exist in etcd'), async () => {
    const v1 = new KeysClient(target.clientUrl, '/keys');
    const v2 = new KeysClient(target.clientUrl, '/v2/keys');
    const key = uniqueKey('cross-family');
    const w = await watch(v1.url(key, { wait: 'true' }));
    const set = parseJsonBody(await v2.set(key, 'x')).node;
    const event = await w.next(5000);
    assert.deepEqual(event.node, set);
    assert.equal(header(await v1.get(key), 'x-etcd-index'), String(set.modifiedIndex));
  });
});
