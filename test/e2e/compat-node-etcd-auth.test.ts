/**
 * The unmodified npm client `node-etcd` (7.x) with its `auth` option (`{user, pass}`: HTTP Basic on every
 * request) against one deimos member with auth enabled: a user whose role reads and writes `/app/*`
 * sets, gets and watches there, is refused elsewhere with node-etcd's error carrying etcd's errorCode
 * 110; a wrong password or an unknown user is refused the same way; root reaches every key. The same
 * tests run against a fresh etcd 3.4 where it is installed (the reference). Skipped only when
 * `node-etcd` cannot be resolved.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { EtcdProcess } from '../bench/etcd-process.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { findOnPath } from '../support/find-on-path.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

/** An error as node-etcd builds it from an etcd error body. */
interface EtcdError extends Error {
  errorCode?: number;
  error?: { errorCode: number; message: string; cause: string; index: number };
}

type Callback = (err: EtcdError | null, body: any, headers: Record<string, string>) => void;

/** The event emitter of `etcd.watcher(...)`. */
interface EtcdWatcher {
  on(event: string, listener: (...args: any[]) => void): void;
  stop(): void;
}

/** The part of node-etcd's client these tests use (the package ships no types). */
interface EtcdClient {
  set(key: string, value: string, options: object, cb: Callback): void;
  get(key: string, options: object, cb: Callback): void;
  del(key: string, options: object, cb: Callback): void;
  watch(key: string, options: object, cb: Callback): void;
  watcher(key: string, index?: number | null, options?: object): EtcdWatcher;
  getSync(key: string, options?: object): { err: EtcdError | null; body: any; headers: Record<string, string> };
}

type EtcdConstructor = new (hosts: string | string[], options?: { auth?: { user: string; pass: string } }) => EtcdClient;

function loadNodeEtcd(): EtcdConstructor | undefined {
  try {
    return createRequire(import.meta.url)('node-etcd') as EtcdConstructor;
  } catch {
    return undefined;
  }
}

const Etcd = loadNodeEtcd();
const ETCD = findOnPath('etcd');
const NO_CLIENT = Etcd === undefined ? 'node-etcd is not installed (npm install in the test workspace)' : false;

/** A server with a fresh (empty) auth state: its client URL and how to end it. */
interface Server {
  clientUrl: string;
  destroy(): Promise<void>;
}

/** The servers the tests run against: deimos, and etcd 3.4 (the reference) where it is installed. */
const SERVERS: Array<{ name: string; skip: string | false; start: () => Promise<Server> }> = [
  { name: 'deimos', skip: NO_CLIENT || (IS_EXTERNAL ? 'needs its own deimos process (auth state starts empty)' : false), start: () => DeimosProcess.start() },
  {
    name: 'etcd 3.4', skip: NO_CLIENT || (ETCD === undefined ? 'etcd is not installed' : false), start: async () => {
      const [clientPort, peerPort] = await freePorts(2);
      return EtcdProcess.start(ETCD!, { name: 'e', clientPort: clientPort!, peerPort: peerPort! });
    },
  },
];

/** etcd's body for a refused keys request, as node-etcd hands it over in `err.error`. */
const REFUSAL = { errorCode: 110, message: 'The request requires user authentication', cause: 'Insufficient credentials', index: 0 };

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

/** Calls and asserts that node-etcd reports etcd's refusal (errorCode 110 with etcd's body). */
async function refused(etcd: EtcdClient, method: keyof EtcdClient, ...args: unknown[]): Promise<void> {
  const a = await call(etcd, method, ...args);
  assert.ok(a.err, `${String(method)}(${JSON.stringify(args)}) succeeded: ${JSON.stringify(a.body)}`);
  assert.equal(a.err.errorCode, 110, `${a.err.message} ${JSON.stringify(a.err.error)}`);
  assert.equal(a.err.message, REFUSAL.message);
  assert.deepEqual(a.err.error, REFUSAL);
  assert.equal(a.body, '', 'node-etcd passes an empty body with an error');
}

function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'Content-Type': 'application/json' };
}

for (const server of SERVERS) {
  describe(`node-etcd with its auth option against ${server.name} with auth enabled`, { skip: server.skip }, () => {
    let member: Server;
    let alice: EtcdClient;
    let root: EtcdClient;

    before(async () => {
      member = await server.start();
      const url = member.clientUrl;
      // Through the v2 auth API as etcdctl would: root, a role on /app/*, alice with it, auth on, guest without rights.
      const steps: Array<[string, string, string, Record<string, string>?]> = [
        ['PUT', '/v2/auth/users/root', '{"user":"root","password":"rootpw"}'],
        ['PUT', '/v2/auth/roles/app', '{"role":"app","permissions":{"kv":{"read":["/app/*"],"write":["/app/*"]}}}'],
        ['PUT', '/v2/auth/users/alice', '{"user":"alice","password":"alicepw","roles":["app"]}'],
        ['PUT', '/v2/auth/enable', ''],
        ['PUT', '/v2/auth/roles/guest', '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}', basic('root', 'rootpw')],
      ];
      for (const [method, path, json, headers] of steps) {
        const res = await http(method, `${url}${path}`, { body: json, headers: headers ?? { 'Content-Type': 'application/json' } });
        assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${res.body}`);
      }
      alice = new Etcd!(url, { auth: { user: 'alice', pass: 'alicepw' } });
      root = new Etcd!(url, { auth: { user: 'root', pass: 'rootpw' } });
    });

    after(async () => {
      await member?.destroy();
    });

    test('set, get and del under the role\'s prefix succeed', async () => {
      const set = await body(alice, 'set', '/app/a', 'v1', {});
      assert.equal(set.action, 'set');
      assert.equal(set.node.value, 'v1');
      const get = await body(alice, 'get', '/app/a', {});
      assert.deepEqual(get, { action: 'get', node: { key: '/app/a', value: 'v1', modifiedIndex: set.node.modifiedIndex, createdIndex: set.node.createdIndex } });
      const dir = await body(alice, 'get', '/app/', { recursive: true });
      assert.deepEqual(dir.node.nodes.map((n: { key: string }) => n.key), ['/app/a']);
      const sync = alice.getSync('/app/a');
      assert.equal(sync.err, null);
      assert.equal(sync.body.node.value, 'v1');
      const del = await body(alice, 'del', '/app/a', {});
      assert.equal(del.prevNode.value, 'v1');
    });

    test('elsewhere (another key, the root, /app itself, a watch) the error carries errorCode 110', async () => {
      await refused(alice, 'set', '/other', 'x', {});
      await refused(alice, 'get', '/other', {});
      await refused(alice, 'del', '/other', {});
      await refused(alice, 'get', '/', { recursive: true });
      await refused(alice, 'get', '/app', {});
      await refused(alice, 'watch', '/other', {});
      // Without credentials (the guest role has no rights left) the same.
      await refused(new Etcd!(member.clientUrl), 'get', '/app/a', {});
    });

    test('a watcher under the prefix receives a change', async () => {
      const w = alice.watcher('/app/w');
      const changes: any[] = [];
      const errors: unknown[] = [];
      w.on('change', (ev) => changes.push(ev));
      w.on('error', (e) => errors.push(e));
      w.on('reconnect', (e) => errors.push(e));
      try {
        // Writes repeat until the watcher has seen one, so nothing depends on when its long poll registers.
        const written: string[] = [];
        await waitFor(async () => {
          if (changes.length > 0) return true;
          assert.deepEqual(errors, [], 'the watcher reported errors');
          const value = `v${written.length}`;
          written.push(value);
          await body(alice, 'set', '/app/w', value, {});
          return false;
        }, { timeoutMs: 8_000, intervalMs: 100, what: "alice's watcher to see a change" });
        assert.equal(changes[0].action, 'set');
        assert.equal(changes[0].node.key, '/app/w');
        assert.ok(written.includes(changes[0].node.value), `the watcher saw ${changes[0].node.value}, not one of ${written.join(',')}`);
        assert.deepEqual(errors, []);
      } finally {
        w.stop();
      }
    });

    test('a wrong password or an unknown user is refused like any other request', async () => {
      await refused(new Etcd!(member.clientUrl, { auth: { user: 'alice', pass: 'wrong' } }), 'get', '/app/w', {});
      await refused(new Etcd!(member.clientUrl, { auth: { user: 'nobody', pass: 'alicepw' } }), 'set', '/app/w', 'x', {});
    });

    test('root reaches every key', async () => {
      await body(root, 'set', '/other', 'r', {});
      assert.equal((await body(root, 'get', '/other', {})).node.value, 'r');
      const all = await body(root, 'get', '/', { recursive: true, sorted: true });
      assert.deepEqual(all.node.nodes.map((n: { key: string }) => n.key), ['/app', '/other']);
    });
  });
}
