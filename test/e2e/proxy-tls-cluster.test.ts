/**
 * deimos-proxy in front of a real 3-member cluster with TLS everywhere (client ports and peer ports
 * require client certificates), certificates made by `deimosctl cert`: the proxy discovers the https
 * members over TLS and forwards with its own client certificate, to plain-HTTP clients and to TLS
 * clients that it authenticates itself; without a client certificate of its own it answers 503;
 * `deimos --proxy readonly --bootstrap-config` learns the members from https peer URLs with its peer
 * certificate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { http } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { waitFor } from '../support/wait-for.js';
import { Watch } from '../support/watch.js';
import { CLUSTER_DEFAULT_ARGS, DeimosCluster } from '../support/deimos-cluster.js';
import { TestCerts, type CertPair } from '../support/tls-certs.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

describe('deimos-proxy in front of a TLS cluster', { skip: SKIP }, () => {
  let certs: TestCerts;
  let ca: string;
  let client: CertPair;
  let peer: CertPair;
  let stranger: CertPair;
  let cluster: DeimosCluster;
  let clientUrls: string[];
  let plain: ProxyProcess;
  let secure: ProxyProcess;

  before(async () => {
    certs = await TestCerts.create();
    ca = certs.path('ca.pem');
    const server = await certs.issue('server', 'server');
    client = await certs.issue('client', 'client');
    peer = await certs.issue('peer', 'peer');
    await certs.ca('other');
    stranger = await certs.issue('client', 'stranger', { caName: 'other' });
    cluster = await DeimosCluster.start({
      size: 3, clientScheme: 'https', peerScheme: 'https', clientTls: certs.credentials(client),
      args: [
        ...CLUSTER_DEFAULT_ARGS, '--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', ca, '--client-cert-auth',
        '--peer-cert-file', peer.cert, '--peer-key-file', peer.key, '--peer-trusted-ca-file', ca, '--peer-client-cert-auth',
        // Only the peer certificate (CN peer) opens the peer ports: the proxy's client certificate would not.
        '--peer-cert-allowed-cn', 'peer',
      ],
    });
    clientUrls = cluster.members.map((m) => m.clientUrl);
    // Plain HTTP towards applications, TLS with the proxy's client certificate towards the cluster.
    plain = await ProxyProcess.start({
      args: ['--endpoints', clientUrls[0]!, '--trusted-ca-file', ca, '--cert-file', client.cert, '--key-file', client.key, '--refresh-interval', '1s'],
    });
    // TLS on both sides: peer.pem has server and client usage, so it serves and authenticates upstream.
    secure = await ProxyProcess.start({
      https: true,
      args: ['--endpoints', clientUrls[1]!, '--trusted-ca-file', ca, '--cert-file', peer.cert, '--key-file', peer.key, '--client-cert-auth'],
    });
  });

  after(async () => {
    await plain?.stop();
    await secure?.stop();
    await cluster?.destroy();
    certs?.destroy();
  });

  test('discovers every https member over TLS from one seed', async () => {
    const expected = [...clientUrls].sort();
    await waitFor(async () => JSON.stringify(await plain.upstreams()) === JSON.stringify(expected), { timeoutMs: 15_000, what: 'the proxy to list the 3 https members' });
  });

  test('a plain-HTTP client writes and reads through the proxy', async () => {
    for (let i = 0; i < 10; i++) {
      const put = await http('PUT', `${plain.url}/v2/keys/ptls/k${i}`, { form: { value: `v${i}` } });
      assert.equal(put.status, 201, put.body);
    }
    for (let i = 0; i < 10; i++) {
      const get = await http('GET', `${plain.url}/v2/keys/ptls/k${i}`);
      assert.deepEqual([get.status, get.json?.node?.value], [200, `v${i}`], get.body);
    }
    assert.equal((await http('GET', `${plain.url}/v2/members`)).json.members.length, 3);
  });

  test('a watch through the proxy delivers an event from the TLS cluster', async () => {
    const watch = await Watch.open(`${plain.url}/v2/keys/ptls/watched?wait=true`);
    try {
      assert.equal(watch.status, 200);
      await http('PUT', `${plain.url}/v2/keys/ptls/watched`, { form: { value: 'event' } });
      assert.equal((await watch.next()).node.value, 'event');
    } finally {
      watch.close();
    }
  });

  test('a TLS client with a certificate of the CA reads through the TLS proxy; others are refused', async () => {
    const ok = await http('GET', `${secure.url}/v2/keys/ptls/k3`, { tls: certs.credentials(client) });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.node.value, 'v3');
    await assert.rejects(http('GET', `${secure.url}/v2/keys/ptls/k3`, { tls: certs.credentials() }), 'no client certificate');
    await assert.rejects(http('GET', `${secure.url}/v2/keys/ptls/k3`, { tls: certs.credentials(stranger) }), 'a certificate of another CA');
  });

  test('a plain-HTTP request to the TLS proxy gets the 400 that says why, as the member and Go\'s servers answer it', async () => {
    const res = await http('GET', `${secure.url.replace('https://', 'http://')}/v2/keys/ptls/k3`, { timeoutMs: 5_000 });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Client sent an HTTP request to an HTTPS server.\n');
  });

  test('the TLS proxy takes the member\'s TLS policy: a CBC suite without forward secrecy is refused', async () => {
    const u = new URL(secure.url);
    const handshake = (ciphers: string) => new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: u.hostname, port: Number(u.port), ca: readFileSync(ca), cert: readFileSync(client.cert), key: readFileSync(client.key), rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers }, () => {
        resolve(socket.getCipher().name);
        socket.destroy();
      });
      socket.on('error', (err) => resolve(`refused: ${err.message}`));
    });
    assert.match(await handshake('AES128-SHA'), /^refused: .*handshake failure/);
    assert.equal(await handshake('ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
  });

  test('SIGHUP makes the proxy read its certificate again for new connections (it ended the proxy), and a broken file keeps the old one', async () => {
    const servedCn = () => new Promise<string>((resolve, reject) => {
      const u = new URL(secure.url);
      const socket = tlsConnect({ host: u.hostname, port: Number(u.port), ca: readFileSync(ca), cert: readFileSync(client.cert), key: readFileSync(client.key), rejectUnauthorized: false }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.equal(await servedCn(), 'peer');
    const original = { cert: readFileSync(peer.cert), key: readFileSync(peer.key) };
    const renewed = await certs.issue('peer', 'peer-renewed', { cn: 'peer-renewed' });
    copyFileSync(renewed.cert, peer.cert);
    copyFileSync(renewed.key, peer.key);
    secure.child.kill('SIGHUP');
    await waitFor(async () => (await servedCn()) === 'peer-renewed', { timeoutMs: 10_000, what: 'the renewed certificate' });
    writeFileSync(peer.cert, 'not a certificate');
    secure.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(secure.child.exitCode, null, 'still running');
    assert.equal(await servedCn(), 'peer-renewed');
    const ok = await http('GET', `${secure.url}/v2/keys/ptls/k3`, { tls: certs.credentials(client) });
    assert.equal(ok.status, 200, ok.body);
    // The members' peer ports take only CN peer: the later tests need the original files.
    writeFileSync(peer.cert, original.cert);
    writeFileSync(peer.key, original.key);
  });

  test('a proxy without a client certificate of its own answers 503 with the TLS failure', async () => {
    const bare = await ProxyProcess.start({ args: ['--endpoints', clientUrls[0]!, '--trusted-ca-file', ca] });
    try {
      const res = await http('GET', `${bare.url}/v2/keys/ptls/k1`);
      assert.equal(res.status, 503, res.body);
      assert.equal(res.json.errorCode, 300);
      assert.match(res.json.cause, /^deimos-proxy: no cluster member answered \(last: https:\/\/127\.0\.0\.1:\d+: (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)\)$/, res.body);
      // A write refused at the handshake never reached a member: 503, not "may have been applied" (502).
      const put = await http('PUT', `${bare.url}/v2/keys/ptls/refused`, { form: { value: 'x' } });
      assert.equal(put.status, 503, put.body);
    } finally {
      await bare.stop();
    }
  });

  test('`deimos --proxy readonly --bootstrap-config` learns the members from https peer URLs with its peer certificate', async () => {
    const bootstrap = cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    assert.match(bootstrap, /=https:/);
    const ro = await ProxyProcess.start({
      viaServer: true,
      args: [
        '--proxy', 'readonly', '--bootstrap-config', bootstrap,
        '--peer-cert-file', peer.cert, '--peer-key-file', peer.key, '--peer-trusted-ca-file', ca,
        '--trusted-ca-file', ca, '--cert-file', client.cert, '--key-file', client.key,
      ],
    });
    try {
      const expected = [...clientUrls].sort();
      await waitFor(async () => JSON.stringify(await ro.upstreams()) === JSON.stringify(expected), { timeoutMs: 15_000, what: 'the read-only proxy to list the 3 https members' });
      const get = await http('GET', `${ro.url}/v2/keys/ptls/k5`);
      assert.deepEqual([get.status, get.json?.node?.value], [200, 'v5'], get.body);
      assert.equal((await http('PUT', `${ro.url}/v2/keys/ptls/k5`, { form: { value: 'no' } })).status, 501);
    } finally {
      await ro.stop();
    }
  });
});
