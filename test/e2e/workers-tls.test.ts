/**
 * Client TLS with client-certificate authentication on a member with client workers
 * (`--client-workers 2`): every worker terminates TLS itself, so requests on fresh connections
 * (any worker may take each) work only with a certificate from the trusted CA, and a SIGHUP makes
 * every worker present the renewed certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { childPids } from '../support/client-workers.js';
import { fingerprintOf, presentedFingerprint, TestCerts, type CertPair } from '../support/tls-certs.js';
import { waitFor } from '../support/wait-for.js';

let certs: TestCerts;
let client: CertPair;
let node: DeimosProcess;

before(async () => {
  certs = await TestCerts.create();
  [, client] = await Promise.all([certs.issue('server', 'server'), certs.issue('client', 'client')]);
  copyFileSync(certs.path('server.pem'), certs.path('live.pem'));
  copyFileSync(certs.path('server-key.pem'), certs.path('live-key.pem'));
  node = await DeimosProcess.start({
    clientScheme: 'https',
    clientTls: certs.credentials(client),
    args: ['--client-workers', '2', '--cert-file', certs.path('live.pem'), '--key-file', certs.path('live-key.pem'), '--trusted-ca-file', certs.path('ca.pem'), '--client-cert-auth'],
  });
  await waitFor(() => childPids(node.pid!).length === 2, { timeoutMs: 10_000, what: 'two workers' });
});

after(async () => {
  await node?.destroy();
  certs?.destroy();
});

test('writes and reads on fresh TLS connections work through every worker with a client certificate, and not without one', async () => {
  for (let i = 0; i < 12; i++) {
    const put = await http('PUT', `${node.clientUrl}/v2/keys/tls/k${i}`, { form: { value: `v${i}` }, tls: certs.credentials(client), fresh: true });
    assert.equal(put.status, 201, put.body);
    const get = await http('GET', `${node.clientUrl}/v2/keys/tls/k${i}`, { tls: certs.credentials(client), fresh: true });
    assert.equal(get.json.node.value, `v${i}`);
  }
  for (let i = 0; i < 6; i++) await assert.rejects(http('GET', `${node.clientUrl}/v2/keys/tls/k0`, { tls: certs.credentials(), fresh: true }));
});

test('after SIGHUP every worker presents the renewed certificate', async () => {
  const renewed = await certs.issue('server', 'renewed');
  copyFileSync(renewed.cert, certs.path('live.pem'));
  copyFileSync(renewed.key, certs.path('live-key.pem'));
  const want = fingerprintOf(certs.path('live.pem'));
  process.kill(node.pid!, 'SIGHUP');
  // Twelve handshakes in a row, each on a connection any worker may take, all with the new one.
  await waitFor(async () => {
    for (let i = 0; i < 12; i++) if ((await presentedFingerprint(node.clientUrl, certs.credentials(client))) !== want) return false;
    return true;
  }, { timeoutMs: 15_000, what: 'every worker to present the renewed certificate' });
  const put = await http('PUT', `${node.clientUrl}/v2/keys/tls/after`, { form: { value: 'yes' }, tls: certs.credentials(client), fresh: true });
  assert.equal(put.status, 201, put.body);
});
