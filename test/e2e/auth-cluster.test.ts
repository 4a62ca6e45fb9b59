/**
 * v2 auth around a 3-member cluster: watches of a user limited to /app/*, the endpoints etcd serves
 * to anyone (stats, metrics) under wrong credentials, deimos-proxy in front (Authorization passed
 * unchanged, nothing shared across users, a wrong password refused), and a member added later that
 * catches up through a snapshot and knows every user and role.
 *
 * e2e-lane: beside (mostly waiting: 6 s of CPU in 13 s alone; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_DEFAULT_ARGS, DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;
const APPLY_TIMEOUT_MS = 15_000;
/** Snapshots every 20 entries, 5 entries kept behind them: a new member needs a snapshot at once. */
const SNAPSHOT_ARGS = ['--snapshot-count', '20'];

function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

const ROOT = basic('root', 'rootpw');
const ALICE = basic('alice', 'alicepw');
const BOB = basic('bob', 'bobpw');
const JSON_TYPE = { 'Content-Type': 'application/json' };

function assertNoAuth(res: TestResponse, what: string): void {
  assert.equal(res.status, 401, `${what}: ${res.body}`);
  assert.equal(res.json?.errorCode, 110, `${what}: ${res.body}`);
  assert.equal(res.json?.message, 'The request requires user authentication', what);
}

describe('v2 auth around a cluster: watches, open endpoints, the proxy, a new member', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let a: DeimosProcess;
  let proxy: ProxyProcess | undefined;
  const catchUp = process.env.DEIMOS_TEST_CATCH_UP_ENTRIES;

  before(async () => {
    process.env.DEIMOS_TEST_CATCH_UP_ENTRIES = '5'; // inherited by the members started here
    cluster = await DeimosCluster.start({ size: 3, args: [...CLUSTER_DEFAULT_ARGS, ...SNAPSHOT_ARGS] });
    a = cluster.members[0]!;
    // Membership changes need every peer connected for a while: wait while the guest still may.
    await cluster.waitReconfigReady(a);
    const steps: Array<[string, unknown, Record<string, string>, number]> = [
      ['/v2/auth/users/root', { user: 'root', password: 'rootpw' }, {}, 201],
      ['/v2/auth/roles/app', { role: 'app', permissions: { kv: { read: ['/app/*'], write: ['/app/*'] } } }, {}, 201],
      ['/v2/auth/roles/other', { role: 'other', permissions: { kv: { read: ['/other/*'], write: ['/other/*'] } } }, {}, 201],
      ['/v2/auth/users/alice', { user: 'alice', password: 'alicepw', roles: ['app'] }, {}, 200],
      ['/v2/auth/users/bob', { user: 'bob', password: 'bobpw', roles: ['other'] }, {}, 200],
    ];
    for (const [path, body, headers, status] of steps) {
      const res = await http('PUT', `${a.clientUrl}${path}`, { body: JSON.stringify(body), headers: { ...JSON_TYPE, ...headers } });
      assert.equal(res.status, status, `${path}: ${res.body}`);
    }
    assert.equal((await http('PUT', `${a.clientUrl}/v2/auth/enable`)).status, 200);
    // The guest may only list / itself (what the harness's readiness probe reads), nothing below it.
    const guest = await http('PUT', `${a.clientUrl}/v2/auth/roles/guest`, {
      body: JSON.stringify({ role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } }, grant: { kv: { read: ['/'] } } }), headers: { ...JSON_TYPE, ...ROOT },
    });
    assert.equal(guest.status, 200, guest.body);
    assert.equal((await http('PUT', `${a.clientUrl}/v2/keys/app/x?quorum=true`, { form: { value: 'secret' }, headers: ALICE })).status, 201);
  });

  after(async () => {
    if (catchUp === undefined) delete process.env.DEIMOS_TEST_CATCH_UP_ENTRIES;
    else process.env.DEIMOS_TEST_CATCH_UP_ENTRIES = catchUp;
    await proxy?.stop();
    await cluster?.destroy();
  });

  test('a user limited to /app/* may not watch /, recursively or not, but may watch under /app/', async () => {
    const b = cluster.members[1]!;
    await waitFor(async () => (await http('GET', `${b.clientUrl}/v2/keys/app/x`, { headers: ALICE })).status === 200,
      { timeoutMs: APPLY_TIMEOUT_MS, what: 'alice reads /app/x on B' });
    assertNoAuth(await http('GET', `${b.clientUrl}/v2/keys/?wait=true&recursive=true`, { headers: ALICE, timeoutMs: 5_000 }), 'recursive watch of /');
    assertNoAuth(await http('GET', `${b.clientUrl}/v2/keys/?wait=true`, { headers: ALICE, timeoutMs: 5_000 }), 'watch of /');
    assertNoAuth(await http('GET', `${b.clientUrl}/v2/keys/app?wait=true&recursive=true`, { headers: ALICE, timeoutMs: 5_000 }),
      'recursive watch of /app (etcd: "/app" does not start with "/app/")');
    assertNoAuth(await http('GET', `${b.clientUrl}/v2/keys/app/x?wait=true`, { headers: BOB, timeoutMs: 5_000 }), "bob's watch of /app/x");
    const watch = http('GET', `${b.clientUrl}/v2/keys/app/?wait=true&recursive=true`, { headers: ALICE, timeoutMs: 10_000 });
    // The watch is open once a write under /app/ reaches it: write until it answers.
    let answered: TestResponse | undefined;
    void watch.then((r) => { answered = r; }, () => undefined);
    await waitFor(async () => {
      await http('PUT', `${a.clientUrl}/v2/keys/app/w`, { form: { value: 'event' }, headers: ALICE });
      return answered !== undefined;
    }, { timeoutMs: 8_000, what: "alice's watch of /app/ to see a write" });
    const res = await watch;
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.node.key, '/app/w');
  });

  test('stats, metrics and the hash are served whatever the credentials, as etcd serves them', async () => {
    for (const path of ['/v2/stats/self', '/v2/stats/store', '/metrics', '/deimos/hash']) {
      assert.equal((await http('GET', `${a.clientUrl}${path}`)).status, 200, `${path} without credentials`);
      assert.equal((await http('GET', `${a.clientUrl}${path}`, { headers: ALICE })).status, 200, `${path} as alice`);
      // A scraper whose password went stale keeps working (etcd never looks at credentials here).
      assert.equal((await http('GET', `${a.clientUrl}${path}`, { headers: basic('alice', 'wrong') })).status, 200, `${path} with a wrong password`);
    }
    // The dashboard's sign-in check (Deimos's own) is where wrong credentials are told apart.
    assertNoAuth(await http('GET', `${a.clientUrl}/dashboard/api/signin`, { headers: basic('alice', 'wrong') }), 'sign-in check with a wrong password');
    const signedIn = await http('GET', `${a.clientUrl}/dashboard/api/signin`, { headers: ALICE });
    assert.equal(signedIn.status, 200, signedIn.body);
    assert.equal(signedIn.json.user, 'alice');
    // Likewise.
    for (const path of ['/version', '/health', '/v2/machines', '/v2/members']) {
      assert.equal((await http('GET', `${a.clientUrl}${path}`, { headers: basic('alice', 'wrong') })).status, 200, path);
    }
    const metrics = await http('GET', `${a.clientUrl}/metrics`, { headers: ROOT });
    assert.ok(!metrics.body.includes('rootpw') && !metrics.body.includes('scrypt'), 'no password or hash in /metrics');
  });

  test('through deimos-proxy: credentials pass unchanged, answers are per user, a wrong password is 401', async () => {
    proxy = await ProxyProcess.start({ args: ['--endpoints', cluster.members.map((m) => m.clientUrl).join(',')] });
    const url = `${proxy.url}/v2/keys/app/x`;
    const asAlice = await http('GET', url, { headers: ALICE });
    assert.equal(asAlice.status, 200, asAlice.body);
    assert.equal(asAlice.json.node.value, 'secret');
    // The same URL right after, as other callers: never alice's answer.
    assertNoAuth(await http('GET', url, { headers: BOB }), 'bob through the proxy');
    assertNoAuth(await http('GET', url), 'the guest through the proxy');
    assertNoAuth(await http('GET', url, { headers: basic('alice', 'wrong') }), 'a wrong password through the proxy');
    assert.equal((await http('GET', url, { headers: ALICE })).status, 200, 'alice again');
    const write = await http('PUT', `${proxy.url}/v2/keys/other/y`, { form: { value: 'b' }, headers: BOB });
    assert.equal(write.status, 201, write.body);
    const users = await http('GET', `${proxy.url}/v2/auth/users`, { headers: ROOT });
    assert.equal(users.status, 200, users.body);
    assert.equal((await http('GET', `${proxy.url}/v2/auth/users`, { headers: ALICE })).status, 401);
  });

  test('a member added later catches up through a snapshot and knows every user and role', async () => {
    const leader = await cluster.leader();
    // Enough entries that the leader snapshots and compacts its log past what a new member needs.
    for (let i = 0; i < 30; i++) {
      const res = await http('PUT', `${leader.clientUrl}/v2/keys/app/fill${i}`, { form: { value: String(i) }, headers: ALICE });
      assert.equal(res.status, 201, res.body);
    }
    const { member: d, id } = await cluster.addMember('node4', { via: leader, headers: ROOT });
    await waitFor(async () => (await http('GET', `${d.clientUrl}/v2/keys/app/fill29?serializable=true`, { headers: ALICE })).status === 200,
      { timeoutMs: 30_000, what: 'the new member to have the last write' });
    const sender = (await cluster.leader()).output;
    assert.match(sender, new RegExp(`sent snapshot peer=${id}`), `the leader sent the new member a snapshot:\n${sender.slice(-3_000)}`);
    assert.match(d.output, /received snapshot/, `the new member received a snapshot:\n${d.output.slice(-3_000)}`);

    const enabled = await http('GET', `${d.clientUrl}/v2/auth/enable`);
    assert.deepEqual(enabled.json, { enabled: true });
    const users = await http('GET', `${d.clientUrl}/v2/auth/users`, { headers: ROOT });
    assert.equal(users.status, 200, users.body);
    assert.deepEqual(users.json.users.map((u: { user: string }) => u.user), ['alice', 'bob', 'root']);
    const app = await http('GET', `${d.clientUrl}/v2/auth/roles/app`, { headers: ROOT });
    assert.deepEqual(app.json, { role: 'app', permissions: { kv: { read: ['/app/*'], write: ['/app/*'] } } });
    const guest = await http('GET', `${d.clientUrl}/v2/auth/roles/guest`, { headers: ROOT });
    assert.deepEqual(guest.json, { role: 'guest', permissions: { kv: { read: ['/'], write: [] } } });
    // Enforced there: passwords (hashes) came with the snapshot.
    const read = await http('GET', `${d.clientUrl}/v2/keys/app/x?serializable=true`, { headers: ALICE });
    assert.equal(read.status, 200, read.body);
    assert.equal(read.json.node.value, 'secret');
    assertNoAuth(await http('GET', `${d.clientUrl}/v2/keys/app/x?serializable=true`, { headers: basic('alice', 'wrong') }), 'wrong password on the new member');
    assertNoAuth(await http('GET', `${d.clientUrl}/v2/keys/app/x?serializable=true`), 'the guest on the new member');
    assertNoAuth(await http('GET', `${d.clientUrl}/v2/keys/app/x?serializable=true`, { headers: BOB }), 'bob on the new member');
  });
});
