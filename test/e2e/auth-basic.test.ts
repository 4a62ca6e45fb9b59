/**
 * The v2 auth API on a real 3-member cluster: root user and enable through one member, guest's
 * default full access and its revocation seen on the others, a role-limited user, root-only
 * endpoints, a password change seen by every member, the state surviving a full restart, and the
 * stored hashes never readable through the keys API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;
const APPLY_TIMEOUT_MS = 15_000;

function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

const ROOT = basic('root', 'rootpw');

function put(m: DeimosProcess, path: string, value: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return http('PUT', `${m.clientUrl}${path}`, { body: JSON.stringify(value), headers: { 'Content-Type': 'application/json', ...headers } });
}

function putKey(m: DeimosProcess, key: string, value: string, headers: Record<string, string> = {}): Promise<TestResponse> {
  return http('PUT', `${m.clientUrl}/v2/keys${key}`, { form: { value }, headers });
}

function getKey(m: DeimosProcess, key: string, headers: Record<string, string> = {}, query = ''): Promise<TestResponse> {
  return http('GET', `${m.clientUrl}/v2/keys${key}${query}`, { headers });
}

function assertKeysNoAuth(res: TestResponse, what: string): void {
  assert.equal(res.status, 401, `${what}: ${res.body}`);
  assert.equal(res.json?.errorCode, 110, `${what}: ${res.body}`);
}

describe('v2 auth on a 3-member cluster', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let a: DeimosProcess;
  let b: DeimosProcess;
  let c: DeimosProcess;
  let alicePassword = 'alicepw';
  const alice = () => basic('alice', alicePassword);

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
    [a, b, c] = cluster.members as [DeimosProcess, DeimosProcess, DeimosProcess];
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('a browser\'s change of users, auth or the membership for a page of another site is refused; etcd clients are unaffected', async () => {
    const forged = { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' };
    const user = await put(a, '/v2/auth/users/csrf', { user: 'csrf', password: 'pw' }, forged);
    assert.equal(user.status, 403, user.body);
    assert.match(user.json.message, /cross-site write refused/);
    assert.equal((await http('GET', `${a.clientUrl}/v2/auth/users/csrf`)).status, 404, 'no user was made');
    const enable = await http('PUT', `${a.clientUrl}/v2/auth/enable`, { headers: { 'Sec-Fetch-Site': 'Same-Site' } });
    assert.equal(enable.status, 403, enable.body);
    const before = (await http('GET', `${a.clientUrl}/v2/members`)).json.members.length;
    const member = await http('POST', `${a.clientUrl}/v2/members`, {
      body: JSON.stringify({ peerURLs: ['http://127.0.0.1:9'] }), headers: { 'Content-Type': 'application/json', ...forged },
    });
    assert.equal(member.status, 403, member.body);
    assert.equal((await http('GET', `${a.clientUrl}/v2/members`)).json.members.length, before, 'no member was added');
    const listed = await http('GET', `${a.clientUrl}/v2/auth/users`, { headers: forged });
    assert.equal(listed.status, 200, 'reads are not refused (a page of another site cannot read the answer)');
  });

  test('root is created and auth enabled through one member; the guest keeps full access', async () => {
    const created = await put(a, '/v2/auth/users/root', { user: 'root', password: 'rootpw' });
    assert.equal(created.status, 201, created.body);
    assert.equal(created.json.user, 'root');
    const enabled = await http('PUT', `${a.clientUrl}/v2/auth/enable`);
    assert.equal(enabled.status, 200, enabled.body);
    await waitFor(async () => (await http('GET', `${b.clientUrl}/v2/auth/enable`)).json?.enabled === true, { timeoutMs: APPLY_TIMEOUT_MS, what: 'auth enabled on B' });

    // etcd: without credentials a request is the guest, whose role grants everything by default.
    const w = await putKey(b, '/guest/x', 'g');
    assert.equal(w.status, 201, w.body);
    const r = await getKey(b, '/guest/x');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.node.value, 'g');
    const guestRole = await http('GET', `${b.clientUrl}/v2/auth/roles/guest`, { headers: ROOT });
    assert.equal(guestRole.status, 200, guestRole.body);
    assert.deepEqual(guestRole.json, { role: 'guest', permissions: { kv: { read: ['/*'], write: ['/*'] } } });
    // Root-only endpoints refuse the guest.
    const users = await http('GET', `${b.clientUrl}/v2/auth/users`);
    assert.equal(users.status, 401, users.body);
    // As etcd's handlers: the cluster is named once the caller may ask (its 200s and 404s), not on
    // a 401; a path no handler serves is the mux's plain 404.
    assert.equal(users.headers['x-etcd-cluster-id'], undefined);
    const listed = await http('GET', `${b.clientUrl}/v2/auth/users`, { headers: ROOT });
    assert.match(String(listed.headers['x-etcd-cluster-id']), /^[0-9a-f]+$/, listed.body);
    const missing = await http('GET', `${b.clientUrl}/v2/auth/users/nobody`, { headers: ROOT });
    assert.equal(missing.status, 404, missing.body);
    assert.match(String(missing.headers['x-etcd-cluster-id']), /^[0-9a-f]+$/);
    const unknown = await http('GET', `${b.clientUrl}/v2/auth/foo`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers['x-content-type-options'], 'nosniff');
  });

  test("revoking guest's write through B refuses an unauthenticated write on C", async () => {
    const unauth = await put(b, '/v2/auth/roles/guest', { role: 'guest', revoke: { kv: { write: ['/*'] } } });
    assert.equal(unauth.status, 401, `the guest cannot change roles: ${unauth.body}`);
    const revoked = await put(b, '/v2/auth/roles/guest', { role: 'guest', revoke: { kv: { write: ['/*'] } } }, ROOT);
    assert.equal(revoked.status, 200, revoked.body);
    assert.deepEqual(revoked.json.permissions.kv.write, [], revoked.body);

    let last: TestResponse | undefined;
    await waitFor(async () => {
      last = await putKey(c, '/guest/y', 'nope');
      return last.status !== 201;
    }, { timeoutMs: APPLY_TIMEOUT_MS, what: 'guest write refused on C' });
    assertKeysNoAuth(last!, 'guest write on C');
    // Reads stay allowed for the guest, and root may still write. A fresh key: /guest/y may exist,
    // written by a poll that reached C before C applied the revoke (visibility is per member, as in etcd).
    assert.equal((await getKey(c, '/guest/x')).status, 200);
    const rootWrite = await putKey(c, '/guest/by-root', 'root', ROOT);
    assert.equal(rootWrite.status, 201, rootWrite.body);
  });

  test('a user with role app may use /app/* only', async () => {
    const role = await put(a, '/v2/auth/roles/app', { role: 'app', permissions: { kv: { read: ['/app/*'], write: ['/app/*'] } } }, ROOT);
    assert.equal(role.status, 201, role.body);
    const user = await put(a, '/v2/auth/users/alice', { user: 'alice', password: alicePassword, roles: ['app'] }, ROOT);
    // etcd 3.4 answers 200, not 201, to a user created with roles (its CreateUser path, not CreateOrUpdateUser).
    assert.equal(user.status, 200, user.body);
    assert.deepEqual(user.json, { user: 'alice', roles: ['app'] });

    let w: TestResponse | undefined;
    await waitFor(async () => {
      w = await putKey(b, '/app/x', 'hello', alice());
      return w.status === 201;
    }, { timeoutMs: APPLY_TIMEOUT_MS, what: 'alice writes /app/x on B' });
    const r = await getKey(c, '/app/x', alice(), '?quorum=true');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.node.value, 'hello');

    assertKeysNoAuth(await putKey(b, '/other', 'x', alice()), 'alice writes /other');
    assertKeysNoAuth(await getKey(b, '/other', alice()), 'alice reads /other');
    assertKeysNoAuth(await getKey(b, '/', alice(), '?recursive=true'), 'alice reads / recursively');

    const rootOnly = await put(b, '/v2/auth/users/mallory', { user: 'mallory', password: 'm' }, alice());
    assert.equal(rootOnly.status, 401, rootOnly.body);
    const grant = await put(b, '/v2/auth/users/alice', { user: 'alice', grant: ['root'] }, alice());
    assert.equal(grant.status, 401, grant.body);
    assert.equal((await http('GET', `${c.clientUrl}/v2/auth/users/mallory`, { headers: ROOT })).status, 404);
  });

  test("a password change through A refuses the old password on C's next request", async () => {
    const oldPassword = alicePassword;
    // Warm C's credential cache with the old password first: the change must still be seen.
    assert.equal((await getKey(c, '/app/x', basic('alice', oldPassword))).status, 200);
    const changed = await put(a, '/v2/auth/users/alice', { user: 'alice', password: 'alicepw2' }, ROOT);
    assert.equal(changed.status, 200, changed.body);
    alicePassword = 'alicepw2';

    let old: TestResponse | undefined;
    await waitFor(async () => {
      old = await getKey(c, '/app/x', basic('alice', oldPassword));
      return old.status !== 200;
    }, { timeoutMs: APPLY_TIMEOUT_MS, what: 'old password refused on C' });
    assertKeysNoAuth(old!, 'old password on C');
    const fresh = await getKey(c, '/app/x', alice());
    assert.equal(fresh.status, 200, fresh.body);
    assertKeysNoAuth(await getKey(b, '/app/x', basic('alice', oldPassword)), 'old password on B');
  });

  test('users, roles and permissions survive a restart of every member', async () => {
    await Promise.all(cluster.members.map((m) => cluster.restart(m)));
    await cluster.leader({ timeoutMs: 30_000 });
    for (const m of [a, b, c]) {
      const enabled = await http('GET', `${m.clientUrl}/v2/auth/enable`);
      assert.equal(enabled.json?.enabled, true, `${m.name}: ${enabled.body}`);
      const users = await http('GET', `${m.clientUrl}/v2/auth/users/alice`, { headers: ROOT });
      assert.equal(users.status, 200, `${m.name}: ${users.body}`);
      const r = await getKey(m, '/app/x', alice());
      assert.equal(r.status, 200, `${m.name}: ${r.body}`);
      assert.equal(r.json.node.value, 'hello');
      assertKeysNoAuth(await putKey(m, '/other', 'x', alice()), `${m.name}: alice writes /other`);
      assertKeysNoAuth(await putKey(m, '/guest/z', 'x'), `${m.name}: guest write`);
    }
    assert.equal((await putKey(a, '/app/after-restart', 'ok', alice())).status, 201);
  });

  test('the auth data is never readable through the keys API', async () => {
    for (const headers of [{}, ROOT, alice()]) {
      for (const m of [a, b]) {
        const reads = [
          await getKey(m, '/_deimos/_auth', headers),
          await getKey(m, '/_deimos', headers, '?recursive=true'),
          await getKey(m, '/_deimos/_auth', headers, '?recursive=true&quorum=true'),
          await getKey(m, '/', headers, '?recursive=true'),
        ];
        for (const res of reads) {
          assert.doesNotMatch(res.body, /scrypt|passwordHash|rootpw|alicepw/, res.body);
          assert.notEqual(res.status, 500, res.body);
        }
      }
    }
    const listing = await getKey(a, '/', ROOT, '?recursive=true');
    assert.equal(listing.status, 200, listing.body);
    assert.ok(!listing.body.includes('_deimos'), listing.body);
  });

  test('a body past --max-request-bytes is a 413 with etcd\'s message; credentials etcd would not decode are refused', async () => {
    const big = `{"user":"big","password":"${'p'.repeat(5 * 1024 * 1024)}"}`;
    const res = await http('PUT', `${a.clientUrl}/v2/auth/users/big`, { headers: { ...ROOT, 'content-type': 'application/json' }, body: big, timeoutMs: 30_000 });
    assert.equal(res.status, 413, res.body);
    assert.deepEqual(res.json, { message: 'http: POST too large' });
    assert.doesNotMatch(a.output, /request handler failed/);
    const root = ROOT['Authorization']!;
    for (const authorization of [root.replace(/=+$/, ''), `${root}AA`, basic('root', 'rootpw\0')['Authorization']!]) {
      assertKeysNoAuth(await getKey(b, '/app', { authorization }), authorization);
    }
    const nul = await http('PUT', `${a.clientUrl}/v2/auth/users/nul`, { headers: { ...ROOT, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'nul', password: 'pw\u0000' }) });
    assert.equal(nul.status, 400, nul.body);
    assert.deepEqual(nul.json, { message: 'A password must not end with a NUL character' });
  });
});
