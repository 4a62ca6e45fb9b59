/**
 * Client certificates and users together (`--client-cert-auth`, real TLS): a request without Basic
 * credentials is the user named by its certificate's common name when that user exists (its roles
 * apply, root's included), otherwise the guest; Basic credentials, when sent, take precedence.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse, type TestTlsCredentials } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { TestCerts } from '../support/tls-certs.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

function basic(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

describe('--client-cert-auth: the certificate names the user', { skip: SKIP }, () => {
  let certs: TestCerts;
  let node: DeimosProcess;
  let rootCert: TestTlsCredentials;
  let aliceCert: TestTlsCredentials;
  let nobodyCert: TestTlsCredentials;

  const send = (method: string, path: string, tls: TestTlsCredentials, opts: { form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<TestResponse> =>
    http(method, `${node.clientUrl}${path}`, { ...opts, tls });

  before(async () => {
    certs = await TestCerts.create();
    const [, root, alice, nobody] = await Promise.all([
      certs.issue('server', 'server'), certs.issue('client', 'root-client', { cn: 'root' }),
      certs.issue('client', 'alice-client', { cn: 'alice' }), certs.issue('client', 'nobody-client', { cn: 'nobody' }),
    ]);
    rootCert = certs.credentials(root);
    aliceCert = certs.credentials(alice);
    nobodyCert = certs.credentials(nobody);
    node = await DeimosProcess.start({
      clientScheme: 'https', clientTls: rootCert,
      args: ['--cert-file', certs.path('server.pem'), '--key-file', certs.path('server-key.pem'), '--trusted-ca-file', certs.path('ca.pem'), '--client-cert-auth'],
    });
    const json = { 'Content-Type': 'application/json' };
    // Set up with Basic credentials (auth is still off): root, a role for /app/*, alice with it.
    assert.equal((await send('PUT', '/v2/auth/users/root', rootCert, { body: JSON.stringify({ user: 'root', password: 'rootpw' }), headers: json })).status, 201);
    assert.equal((await send('PUT', '/v2/auth/roles/app', rootCert, { body: JSON.stringify({ role: 'app', permissions: { kv: { read: ['/app/*'], write: ['/app/*'] } } }), headers: json })).status, 201);
    assert.equal((await send('PUT', '/v2/auth/users/alice', rootCert, { body: JSON.stringify({ user: 'alice', password: 'alicepw', roles: ['app'] }), headers: json })).status, 200);
    assert.equal((await send('PUT', '/v2/auth/enable', rootCert, { headers: basic('root', 'rootpw') })).status, 200);
    // The guest may do nothing.
    const revoked = await send('PUT', '/v2/auth/roles/guest', rootCert, { body: JSON.stringify({ role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } }), headers: { ...json, ...basic('root', 'rootpw') } });
    assert.equal(revoked.status, 200, revoked.body);
  });

  after(async () => {
    await node?.destroy();
    certs?.destroy();
  });

  test("a certificate with CN root is the root user: root-only endpoints and every key", async () => {
    const users = await send('GET', '/v2/auth/users', rootCert);
    assert.equal(users.status, 200, users.body);
    assert.deepEqual(users.json.users.map((u: { user: string }) => u.user), ['alice', 'root']);
    assert.equal((await send('PUT', '/v2/keys/anywhere', rootCert, { form: { value: 'r' } })).status, 201);
  });

  test("a certificate with CN alice gets alice's role: /app/* only", async () => {
    assert.equal((await send('PUT', '/v2/keys/app/x', aliceCert, { form: { value: 'a' } })).status, 201);
    const read = await send('GET', '/v2/keys/app/x', aliceCert);
    assert.equal(read.status, 200, read.body);
    assert.equal(read.json.node.value, 'a');
    const outside = await send('GET', '/v2/keys/anywhere', aliceCert);
    assert.equal(outside.status, 401, outside.body);
    assert.equal(outside.json.errorCode, 110);
    assert.equal((await send('GET', '/v2/auth/users', aliceCert)).status, 401, 'alice is no root');
  });

  test('a certificate naming no user is the guest', async () => {
    const res = await send('GET', '/v2/keys/app/x', nobodyCert);
    assert.equal(res.status, 401, res.body);
    assert.equal(res.json.errorCode, 110);
    assert.equal((await send('GET', '/v2/auth/users', nobodyCert)).status, 401);
  });

  test('Basic credentials take precedence over the certificate', async () => {
    // root's certificate with alice's password: alice's rights, not root's.
    assert.equal((await send('GET', '/v2/keys/anywhere', rootCert, { headers: basic('alice', 'alicepw') })).status, 401);
    assert.equal((await send('GET', '/v2/keys/app/x', rootCert, { headers: basic('alice', 'alicepw') })).status, 200);
    // A wrong password is refused even with root's certificate.
    const wrong = await send('GET', '/v2/keys/app/x', rootCert, { headers: basic('root', 'nope') });
    assert.equal(wrong.status, 401, wrong.body);
    // nobody's certificate with root's password is root.
    assert.equal((await send('GET', '/v2/auth/users', nobodyCert, { headers: basic('root', 'rootpw') })).status, 200);
  });
});
