/**
 * Compatibility with the unmodified npm client `node-etcd` (7.x, etcd v2 API, CommonJS over `request`):
 * set/get/del, directories, TTL, compare-and-swap/-delete, in-order keys, recursive gets, the
 * `watcher` event emitter, the synchronous API, errors as node-etcd reports them, and failover across
 * the members of a 3-member cluster. Skipped only when `node-etcd` cannot be resolved.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { DeimosCluster } from '../support/deimos-cluster.js';
import { IS_EXTERNAL, KeysTarget, uniqueKey } from '../support/keys-target.js';
import { http } from '../support/http.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

/** The callback node-etcd calls: error (with `errorCode`, `error` = etcd's JSON), body, headers. */
type Callback = (err: EtcdError | null, body: any, headers: Record<string, string>) => void;

/** An error as node-etcd builds it. */
interface EtcdError extends Error {
  errorCode?: number;
  error?: { errorCode: number; message: string; cause: string; index: number };
  /** Set on 'All servers returned error': one entry per failed attempt. */
  errors?: Array<{ server: string; httperror?: { code?: string } }>;
}

/** The event emitter of `etcd.watcher(...)`. */
interface EtcdWatcher {
  on(event: string, listener: (...args: any[]) => void): void;
  stop(): void;
}

/** The part of node-etcd's client these tests use (the package ships no types). */
interface EtcdClient {
  set(key: string, value: string | null, options: object, cb: Callback): void;
  get(key: string, options: object, cb: Callback): void;
  del(key: string, options: object, cb: Callback): void;
  mkdir(key: string, options: object, cb: Callback): void;
  rmdir(key: string, options: object, cb: Callback): void;
  create(key: string, value: string, options: object, cb: Callback): void;
  compareAndSwap(key: string, value: string, oldValue: string, options: object, cb: Callback): void;
  compareAndDelete(key: string, oldValue: string, options: object, cb: Callback): void;
  watch(key: string, options: object, cb: Callback): void;
  watchIndex(key: string, index: number, options: object, cb: Callback): void;
  watcher(key: string, index?: number | null, options?: object): EtcdWatcher;
  version(cb: Callback): void;
  selfStats(cb: Callback): void;
  leaderStats(cb: Callback): void;
  setSync(key: string, value: string, options?: object): { err: EtcdError | null; body: any; headers: Record<string, string> };
  getSync(key: string, options?: object): { err: EtcdError | null; body: any; headers: Record<string, string> };
}

type EtcdConstructor = new (hosts: string | string[], options?: object) => EtcdClient;

function loadNodeEtcd(): EtcdConstructor | undefined {
  try {
    return createRequire(import.meta.url)('node-etcd') as EtcdConstructor;
  } catch {
    return undefined;
  }
}

const Etcd = loadNodeEtcd();
const SKIP = Etcd === undefined ? 'node-etcd is not installed (npm install in the test workspace)' : false;
const CLUSTER_SKIP = SKIP || (IS_EXTERNAL ? 'needs its own deimos processes' : false);

/** What one callback-style node-etcd call answered. */
interface Answer {
  err: EtcdError | null;
  body: any;
  headers: Record<string, string>;
}

/** Calls `method` of `etcd` with `args` plus a callback; resolves with what the callback got. */
function call(etcd: EtcdClient, method: keyof EtcdClient, ...args: unknown[]): Promise<Answer> {
  return new Promise((resolve) => {
    (etcd[method] as (...a: unknown[]) => void).call(etcd, ...args, (err: EtcdError | null, body: any, headers: Record<string, string>) => {
      resolve({ err, body, headers: headers ?? {} });
    });
  });
}

/** Calls and asserts success; returns the body. */
async function body(etcd: EtcdClient, method: keyof EtcdClient, ...args: unknown[]): Promise<any> {
  const a = await call(etcd, method, ...args);
  assert.equal(a.err, null, `${String(method)}(${JSON.stringify(args)}) failed: ${a.err?.message} ${JSON.stringify(a.err?.error)}`);
  return a.body;
}

/** Calls and asserts that node-etcd reports etcd error `errorCode`; returns the error. */
async function failure(etcd: EtcdClient, errorCode: number, method: keyof EtcdClient, ...args: unknown[]): Promise<{ err: EtcdError; headers: Record<string, string> }> {
  const a = await call(etcd, method, ...args);
  assert.ok(a.err, `${String(method)}(${JSON.stringify(args)}) succeeded: ${JSON.stringify(a.body)}`);
  assert.equal(a.err.errorCode, errorCode, `${a.err.message} ${JSON.stringify(a.err.error)}`);
  assert.equal(a.body, '', 'node-etcd passes an empty body with an error');
  return { err: a.err, headers: a.headers };
}

/** The number of live watchers (`/v2/stats/store`): a long poll is registered when it grows. */
async function watcherCount(url: string): Promise<number> {
  return (await http('GET', `${url}/v2/stats/store`)).json.watchers;
}

/** Collects every event of a watcher. */
function collect(w: EtcdWatcher): { events: any[]; actions: string[]; errors: unknown[] } {
  const seen = { events: [] as any[], actions: [] as string[], errors: [] as unknown[] };
  w.on('change', (ev) => seen.events.push(ev));
  for (const action of ['set', 'update', 'create', 'delete', 'expire', 'compareAndSwap', 'compareAndDelete']) {
    w.on(action, () => seen.actions.push(action));
  }
  w.on('error', (e) => seen.errors.push(e));
  return seen;
}

describe('node-etcd against one member', { skip: SKIP }, () => {
  let target: KeysTarget;
  let etcd: EtcdClient;

  before(async () => {
    target = await KeysTarget.start();
    etcd = new Etcd!(target.clientUrl);
  });

  after(async () => {
    await target?.destroy();
  });

  test('set, get and del answer etcd\'s events with the X-Etcd-Index header', async () => {
    const k = uniqueKey('ne-basic');
    const set = await call(etcd, 'set', k, 'v1', {});
    assert.equal(set.err, null);
    assert.equal(set.body.action, 'set');
    assert.equal(set.body.node.key, k);
    assert.equal(set.body.node.value, 'v1');
    assert.equal(Number(set.headers['x-etcd-index']), set.body.node.modifiedIndex);
    const replaced = await body(etcd, 'set', k, 'v2', {});
    assert.equal(replaced.prevNode.value, 'v1');
    const get = await body(etcd, 'get', k, {});
    assert.deepEqual(get, { action: 'get', node: { key: k, value: 'v2', modifiedIndex: replaced.node.modifiedIndex, createdIndex: replaced.node.createdIndex } });
    const del = await body(etcd, 'del', k, {});
    assert.equal(del.action, 'delete');
    assert.equal(del.prevNode.value, 'v2');
    assert.equal(del.node.value, undefined);
    const created = await body(etcd, 'set', k, 'again', { prevExist: false });
    assert.equal(created.action, 'create');
    const updated = await body(etcd, 'set', k, 'updated', { prevExist: true });
    assert.equal(updated.action, 'update');
    assert.equal(updated.node.createdIndex, created.node.createdIndex);
  });

  test('errors come back as node-etcd errors carrying etcd\'s errorCode, message, cause and index', async () => {
    const k = uniqueKey('ne-errors');
    const missing = await failure(etcd, 100, 'get', k, {});
    assert.equal(missing.err.message, 'Key not found');
    assert.deepEqual(missing.err.error, { errorCode: 100, message: 'Key not found', cause: k, index: Number(missing.headers['x-etcd-index']) });
    await body(etcd, 'set', k, 'x', {});
    const exists = await failure(etcd, 105, 'set', k, 'y', { prevExist: false });
    assert.equal(exists.err.message, 'Key already exists');
    const throughFile = await failure(etcd, 104, 'set', `${k}/child`, 'y', {});
    assert.equal(throughFile.err.error!.cause, k);
    const badTtl = await failure(etcd, 202, 'set', k, 'y', { ttl: 'abc' });
    assert.deepEqual(badTtl.err.error, { errorCode: 202, message: 'The given TTL in POST form is not a number', cause: 'invalid value for "ttl"', index: 0 });
    const root = await failure(etcd, 107, 'set', '/', 'y', {});
    assert.equal(root.err.message, 'Root is read only');
    const noUpdate = await failure(etcd, 100, 'set', `${k}-none`, 'y', { prevExist: true });
    assert.equal(noUpdate.err.error!.cause, `${k}-none`);
  });

  test('a TTL shows as ttl and expiration, and the key expires', async () => {
    const k = uniqueKey('ne-ttl');
    const set = await body(etcd, 'set', k, 'temp', { ttl: 100 });
    assert.equal(set.node.ttl, 100);
    assert.match(set.node.expiration, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    const get = await body(etcd, 'get', k, {});
    assert.ok(get.node.ttl === 100 || get.node.ttl === 99, `ttl ${get.node.ttl}`);
    assert.equal(get.node.expiration, set.node.expiration);
    await body(etcd, 'set', `${k}-short`, 'gone soon', { ttl: 1 });
    await waitFor(async () => (await call(etcd, 'get', `${k}-short`, {})).err?.errorCode === 100, { timeoutMs: 10_000, what: 'the 1 s key to expire' });
    const permanent = await body(etcd, 'set', k, 'kept', {});
    assert.equal(permanent.node.ttl, undefined, 'a set without ttl drops the TTL');
  });

  test('compareAndSwap and compareAndDelete succeed on a match and report 101 on a mismatch', async () => {
    const k = uniqueKey('ne-cas');
    const first = await body(etcd, 'set', k, 'one', {});
    const swapped = await body(etcd, 'compareAndSwap', k, 'two', 'one', {});
    assert.equal(swapped.action, 'compareAndSwap');
    assert.equal(swapped.node.value, 'two');
    assert.equal(swapped.node.createdIndex, first.node.createdIndex);
    assert.equal(swapped.prevNode.value, 'one');
    const stale = await failure(etcd, 101, 'compareAndSwap', k, 'three', 'one', {});
    assert.equal(stale.err.message, 'Compare failed');
    assert.equal(stale.err.error!.cause, '[one != two]');
    assert.equal(stale.err.error!.index, Number(stale.headers['x-etcd-index']));
    const byIndex = await failure(etcd, 101, 'set', k, 'three', { prevIndex: first.node.modifiedIndex });
    assert.equal(byIndex.err.error!.cause, `[${first.node.modifiedIndex} != ${swapped.node.modifiedIndex}]`);
    await failure(etcd, 100, 'compareAndSwap', `${k}-none`, 'x', 'y', {});
    await failure(etcd, 101, 'compareAndDelete', k, 'one', {});
    const deleted = await body(etcd, 'compareAndDelete', k, 'two', {});
    assert.equal(deleted.action, 'compareAndDelete');
    assert.equal(deleted.prevNode.value, 'two');
  });

  test('mkdir, rmdir, create (in-order keys) and a recursive sorted get', async () => {
    const d = uniqueKey('ne-dirs');
    const made = await body(etcd, 'mkdir', d, {});
    assert.equal(made.action, 'set');
    assert.equal(made.node.dir, true);
    assert.equal(made.node.value, undefined);
    const twice = await failure(etcd, 102, 'mkdir', d, {});
    assert.equal(twice.err.message, 'Not a file', 'mkdir is PUT ?dir=true: an existing directory is "not a file"');
    await body(etcd, 'set', `${d}/b`, '2', {});
    await body(etcd, 'set', `${d}/a/x`, '1', {});
    await body(etcd, 'set', `${d}/_hidden`, 'h', {});
    const q1 = await body(etcd, 'create', `${d}/q`, 'first', {});
    const q2 = await body(etcd, 'create', `${d}/q`, 'second', {});
    assert.equal(q1.action, 'create');
    assert.match(q1.node.key, new RegExp(`^${d}/q/\\d{20}$`));
    assert.equal(Number(q1.node.key.slice(-20)), q1.node.createdIndex);
    assert.ok(q2.node.key > q1.node.key);
    const tree = await body(etcd, 'get', d, { recursive: true, sorted: true });
    const shape = (n: any): unknown => (n.dir ? { [n.key]: (n.nodes ?? []).map(shape) } : `${n.key}=${n.value}`);
    assert.deepEqual(shape(tree.node), {
      [d]: [{ [`${d}/a`]: [`${d}/a/x=1`] }, `${d}/b=2`, { [`${d}/q`]: [`${q1.node.key}=first`, `${q2.node.key}=second`] }],
    });
    const flat = await body(etcd, 'get', d, { sorted: true });
    assert.deepEqual(flat.node.nodes.map((n: any) => [n.key, n.nodes]), [[`${d}/a`, undefined], [`${d}/b`, undefined], [`${d}/q`, undefined]]);
    const notEmpty = await failure(etcd, 108, 'rmdir', d, {});
    assert.equal(notEmpty.err.message, 'Directory not empty');
    await failure(etcd, 102, 'del', d, {});
    await body(etcd, 'mkdir', `${d}/empty`, {});
    assert.equal((await body(etcd, 'rmdir', `${d}/empty`, {})).action, 'delete');
    const gone = await body(etcd, 'rmdir', d, { recursive: true });
    assert.equal(gone.node.dir, true);
    await failure(etcd, 100, 'get', `${d}/a/x`, {});
  });

  test('watch and watchIndex answer the next (or a past) event', async () => {
    const k = uniqueKey('ne-watch');
    const first = await body(etcd, 'set', k, 'v1', {});
    await body(etcd, 'set', k, 'v2', {});
    const past = await body(etcd, 'watchIndex', k, first.node.modifiedIndex, {});
    assert.equal(past.node.value, 'v1');
    const watchers = await watcherCount(target.clientUrl);
    const next = call(etcd, 'watch', k, {});
    await waitFor(async () => (await watcherCount(target.clientUrl)) > watchers, { timeoutMs: 10_000, what: 'the long poll to register' });
    const written = await body(etcd, 'set', k, 'v3', {});
    const got = await next;
    assert.equal(got.err, null);
    assert.deepEqual(got.body, written);
  });

  test('a recursive watcher emits change and per-action events for every write, in order', async () => {
    const d = uniqueKey('ne-watcher');
    const start = await body(etcd, 'set', `${d}/seed`, 's', {});
    // From an index, so that no event can slip in before the long poll is registered.
    const w = etcd.watcher(d, start.node.modifiedIndex + 1, { recursive: true });
    const seen = collect(w);
    try {
      await body(etcd, 'set', `${d}/a`, '1', {});
      await body(etcd, 'set', `${d}/a`, '2', { prevExist: true });
      await body(etcd, 'compareAndSwap', `${d}/a`, '3', '2', {});
      await body(etcd, 'del', `${d}/a`, {});
      await body(etcd, 'set', `${d}/t`, 'brief', { ttl: 1 });
      await waitFor(() => seen.events.length >= 6, { timeoutMs: 15_000, what: `six watcher events (so far ${JSON.stringify(seen.actions)})` });
      assert.deepEqual(seen.actions, ['set', 'update', 'compareAndSwap', 'delete', 'set', 'expire']);
      assert.deepEqual(seen.events.map((e) => [e.node.key, e.node.value, e.prevNode?.value]), [
        [`${d}/a`, '1', undefined], [`${d}/a`, '2', '1'], [`${d}/a`, '3', '2'], [`${d}/a`, undefined, '3'],
        [`${d}/t`, 'brief', undefined], [`${d}/t`, undefined, 'brief'],
      ]);
      const indexes = seen.events.map((e) => e.node.modifiedIndex as number);
      assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
      assert.deepEqual(seen.errors, []);
    } finally {
      w.stop();
    }
  });

  test('the synchronous API (setSync, getSync) works', () => {
    const k = uniqueKey('ne-sync');
    const set = etcd.setSync(k, 'blocking');
    assert.equal(set.err, null);
    assert.equal(set.body.node.value, 'blocking');
    assert.equal(etcd.getSync(k).body.node.value, 'blocking');
    assert.equal(etcd.getSync(`${k}-none`).err?.errorCode, 100);
  });

  test('version, selfStats and leaderStats parse as JSON', async () => {
    const version = await body(etcd, 'version');
    assert.equal(typeof version.etcdserver, 'string');
    assert.equal(typeof version.etcdcluster, 'string');
    const self = await body(etcd, 'selfStats');
    assert.equal(self.state, 'StateLeader');
    const leader = await body(etcd, 'leaderStats');
    assert.equal(leader.leader, self.id);
  });
});

describe('node-etcd against a 3-member cluster', { skip: CLUSTER_SKIP }, () => {
  let cluster: DeimosCluster;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('a watcher on a follower sees writes made through the leader', async () => {
    const leader = await cluster.leader();
    const follower = cluster.followers(leader)[0]!;
    const d = uniqueKey('ne-cluster-watch');
    const viaLeader = new Etcd!(leader.clientUrl);
    const start = await body(viaLeader, 'set', `${d}/seed`, 's', {});
    const w = new Etcd!(follower.clientUrl).watcher(d, start.node.modifiedIndex + 1, { recursive: true });
    const seen = collect(w);
    try {
      for (let i = 0; i < 5; i++) await body(viaLeader, 'set', `${d}/k${i}`, `v${i}`, {});
      await waitFor(() => seen.events.length >= 5, { timeoutMs: 15_000, what: 'five events through the follower' });
      assert.deepEqual(seen.events.map((e) => e.node.value), ['v0', 'v1', 'v2', 'v3', 'v4']);
    } finally {
      w.stop();
    }
  });

  test('with every member listed, writes keep succeeding when one member is down', async () => {
    const etcd = new Etcd!(cluster.members.map((m) => m.clientUrl));
    const leader = await cluster.leader();
    await cluster.kill(cluster.followers(leader)[0]!);
    const d = uniqueKey('ne-failover');
    for (let i = 0; i < 10; i++) {
      assert.equal((await body(etcd, 'set', `${d}/k${i}`, `v${i}`, {})).node.value, `v${i}`);
    }
    const all = await body(etcd, 'get', d, { recursive: true, sorted: true });
    assert.equal(all.node.nodes.length, 10);
  });

  test('with no member reachable, node-etcd reports "All servers returned error"', async () => {
    const [port] = await freePorts(1);
    const dead = new Etcd!(`127.0.0.1:${port}`);
    const a = await call(dead, 'get', '/x', { maxRetries: 0 });
    assert.equal(a.err?.message, 'All servers returned error');
    assert.equal(a.err?.errors?.[0]?.httperror?.code, 'ECONNREFUSED');
  });
});
