/**
 * Client TLS with client-certificate authentication on a real `deimos` process, certificates from
 * `deimosctl cert`: curl with the CA and a client certificate works; a client without a certificate,
 * one with a certificate from another CA and plain HTTP to the TLS port are refused; SIGHUP swaps
 * in a new certificate without dropping service, and a bad file on reload keeps the old one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import { withDeadline } from '../support/deimos-cluster.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { fingerprintOf, presentedFingerprint, TestCerts, type CertPair } from '../support/tls-certs.js';
import { waitFor } from '../support/wait-for.js';

/** Runs curl; resolves with its exit code and output (curl is a real, independent TLS client). */
function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A TCP connection that sends the first bytes of a TLS record and then nothing; `closed` settles when the server ends it. */
function stalledHandshake(url: string): Promise<{ closed: Promise<void> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(u.port), u.hostname, () => {
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
      resolve({ closed: new Promise((done) => socket.once('close', () => done())) });
    });
    socket.on('error', reject);
  });
}

describe('client TLS with client-certificate auth', () => {
  let certs: TestCerts;
  let client: CertPair;
  let stranger: CertPair;
  let node: DeimosProcess;

  before(async () => {
    certs = await TestCerts.create();
    // Independent deimosctl runs at once: most of their time is process start-up.
    [, client] = await Promise.all([certs.issue('server', 'server'), certs.issue('client', 'client'), certs.ca('other')]);
    stranger = await certs.issue('client', 'stranger', { caName: 'other' });
    // The member reads server.pem through a path that the reload test rewrites.
    copyFileSync(certs.path('server.pem'), certs.path('live.pem'));
    copyFileSync(certs.path('server-key.pem'), certs.path('live-key.pem'));
    node = await DeimosProcess.start({
      clientScheme: 'https',
      clientTls: certs.credentials(client),
      args: ['--cert-file', certs.path('live.pem'), '--key-file', certs.path('live-key.pem'), '--trusted-ca-file', certs.path('ca.pem'), '--client-cert-auth'],
    });
  });
  after(async () => {
    await node?.destroy();
    certs?.destroy();
  });

  test('curl with --cacert, --cert and --key writes and reads a key', async () => {
    const tls = ['--cacert', certs.path('ca.pem'), '--cert', client.cert, '--key', client.key];
    const put = await curl([...tls, '-X', 'PUT', `${node.clientUrl}/v2/keys/secure`, '-d', 'value=over-tls']);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(JSON.parse(put.stdout).node.value, 'over-tls');
    const get = await curl([...tls, `${node.clientUrl}/v2/keys/secure`]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(JSON.parse(get.stdout).node.value, 'over-tls');
  });

  test('a client without a certificate is refused at the handshake', async () => {
    const r = await curl(['--cacert', certs.path('ca.pem'), `${node.clientUrl}/v2/keys/secure`]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    await assert.rejects(http('GET', `${node.clientUrl}/v2/keys/secure`, { tls: certs.credentials() }));
  });

  test('a client with a certificate from another CA is refused', async () => {
    const r = await curl(['--cacert', certs.path('ca.pem'), '--cert', stranger.cert, '--key', stranger.key, `${node.clientUrl}/v2/keys/secure`]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    await assert.rejects(http('GET', `${node.clientUrl}/v2/keys/secure`, { tls: certs.credentials(stranger) }));
  });

  test('plain HTTP to the TLS port is answered 400 and closed, not left hanging', async () => {
    const plainUrl = node.clientUrl.replace('https://', 'http://');
    const res = await http('GET', `${plainUrl}/v2/keys/secure`, { timeoutMs: 5_000 });
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Client sent an HTTP request to an HTTPS server.\n');
  });

  test('TLS 1.2 with an ECDHE AEAD cipher and TLS 1.3 are accepted; TLS 1.1 and CBC or RSA key exchange are refused', async () => {
    const handshake = (opts: ConnectionOptions) => new Promise<string>((resolve, reject) => {
      const u = new URL(node.clientUrl);
      const socket = connect({ host: u.hostname, port: Number(u.port), ...certs.credentials(client), ...opts }, () => {
        const result = `${socket.getProtocol()} ${socket.getCipher().standardName}`;
        socket.destroy();
        resolve(result);
      });
      socket.on('error', reject);
    });
    assert.equal(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    assert.match(await handshake({}), /^TLSv1\.3 TLS_/);
    // The server answers each with a handshake-failure or protocol-version alert.
    const failsWith = (re: RegExp) => (err: NodeJS.ErrnoException) => re.test(err.code ?? '') || assert.fail(`${err.code}: ${err.message}`);
    await assert.rejects(handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' }), failsWith(/ALERT_HANDSHAKE_FAILURE$/));
    await assert.rejects(handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }), failsWith(/ALERT_HANDSHAKE_FAILURE$/));
    await assert.rejects(handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }), failsWith(/ALERT_PROTOCOL_VERSION$|UNSUPPORTED_PROTOCOL$/));
  });

  test('request headers are bounded over TLS as over plain HTTP (1 MiB, then a 431)', async () => {
    const res = await http('GET', `${node.clientUrl}/v2/keys/secure`, { headers: { 'X-Big': 'x'.repeat(1100 * 1024) }, tls: certs.credentials(client) });
    assert.equal(res.status, 431);
  });

  test('a server certificate that the client does not trust is refused by the client', async () => {
    const r = await curl(['--cacert', certs.path('other/ca.pem'), '--cert', client.cert, '--key', client.key, `${node.clientUrl}/v2/keys/secure`]);
    assert.equal(r.code, 60, r.stderr); // curl: peer certificate cannot be authenticated
  });

  test('SIGHUP presents a new certificate and keeps serving; a bad file on reload keeps the old one', async () => {
    const before = await presentedFingerprint(node.clientUrl, certs.credentials(client));
    const renewed = await certs.issue('server', 'renewed');
    copyFileSync(renewed.cert, certs.path('live.pem'));
    copyFileSync(renewed.key, certs.path('live-key.pem'));
    process.kill(node.pid!, 'SIGHUP');
    const want = fingerprintOf(certs.path('live.pem'));
    assert.notEqual(before, want);
    await waitFor(async () => (await presentedFingerprint(node.clientUrl, certs.credentials(client))) === want, { timeoutMs: 10_000, what: 'the renewed certificate to be presented' });
    const put = await http('PUT', `${node.clientUrl}/v2/keys/after-reload`, { form: { value: 'yes' }, tls: certs.credentials(client) });
    assert.equal(put.status, 201, put.body);

    writeFileSync(certs.path('live-key.pem'), 'not a key\n');
    process.kill(node.pid!, 'SIGHUP');
    await waitFor(() => /cannot reload client TLS certificate; keeping the previous one.*live-key\.pem: not a PEM file/.test(node.output), { timeoutMs: 10_000, what: 'the reload error in the log' });
    assert.equal(await presentedFingerprint(node.clientUrl, certs.credentials(client)), want);
    const get = await http('GET', `${node.clientUrl}/v2/keys/after-reload`, { tls: certs.credentials(client) });
    assert.equal(get.json.node.value, 'yes');
    assert.equal(node.exitCode, null);
  });

  test('a connection that stalls in the middle of its handshake is closed after the 10 s handshake timeout', async () => {
    const stalled = await stalledHandshake(node.clientUrl);
    const started = Date.now();
    await withDeadline(stalled.closed, 60_000, 'the server to close a stalled handshake');
    const waitedMs = Date.now() - started;
    assert.ok(waitedMs >= 9_000, `closed after only ${waitedMs} ms`);
  });

  test('SIGTERM stops the member cleanly after refused and plain-HTTP connections, with a handshake in progress', async () => {
    await http('GET', `${node.clientUrl.replace('https://', 'http://')}/v2/keys/`, { timeoutMs: 5_000 });
    await assert.rejects(http('GET', `${node.clientUrl}/v2/keys/`, { tls: certs.credentials() }));
    const stalled = await stalledHandshake(node.clientUrl);
    const started = Date.now();
    await node.stop('SIGTERM', 8_000);
    assert.equal(node.exitCode, 0, `exit ${node.exitCode} after ${Date.now() - started} ms:\n${node.output.slice(-2_000)}`);
    await stalled.closed;
  });
});
