/**
 * deimosctl and the client library against a real member whose client port requires TLS client
 * certificates (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth), with certificates
 * made by `deimosctl cert`: the right credentials work for every request (sync, keys, watches), by
 * flag and by DEIMOSCTL_* variable; no certificate, another CA's certificate, no CA or plain HTTP fail
 * with etcdctl's exit 4 and one line naming the TLS problem.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ClusterUnavailableError, DeimosClient } from '@deimos/client';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { DeimosProcess } from '../support/deimos-process.js';
import { TestCerts, type CertPair } from '../support/tls-certs.js';
import { CtlProcess, ctl } from './ctl-support.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process' : false;

describe('client side of TLS with client-certificate auth', { skip: SKIP }, () => {
  let certs: TestCerts;
  let ca: string;
  let client: CertPair;
  let stranger: CertPair;
  let node: DeimosProcess;
  let url: string;
  let tlsFlags: string[];

  before(async () => {
    certs = await TestCerts.create();
    ca = certs.path('ca.pem');
    const server = await certs.issue('server', 'server');
    client = await certs.issue('client', 'client');
    await certs.ca('other');
    stranger = await certs.issue('client', 'stranger', { caName: 'other' });
    node = await DeimosProcess.start({
      clientScheme: 'https',
      clientTls: certs.credentials(client),
      args: ['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', ca, '--client-cert-auth'],
    });
    url = node.clientUrl;
    tlsFlags = ['--ca-file', ca, '--cert-file', client.cert, '--key-file', client.key];
  });
  after(async () => {
    await node?.destroy();
    certs?.destroy();
  });

  test('deimosctl with --ca-file, --cert-file and --key-file: sync, set, get, ls, member list and cluster-health', async () => {
    const set = await ctl(['set', '/tls/a', 'secure', '--endpoints', url, ...tlsFlags]);
    assert.deepEqual([set.code, set.stdout, set.stderr], [0, 'secure\n', '']);
    const get = await ctl(['get', '/tls/a', '--endpoints', url, ...tlsFlags]);
    assert.deepEqual([get.code, get.stdout], [0, 'secure\n'], get.stderr);
    const ls = await ctl(['ls', '/tls', '--endpoints', url, ...tlsFlags]);
    assert.deepEqual([ls.code, ls.stdout], [0, '/tls/a\n'], ls.stderr);
    const members = await ctl(['member', 'list', '--endpoints', url, ...tlsFlags]);
    assert.equal(members.code, 0, members.stderr);
    assert.match(members.stdout, new RegExp(`clientURLs=${url} isLeader=true\\n$`));
    const health = await ctl(['cluster-health', '--endpoints', url, ...tlsFlags]);
    assert.equal(health.code, 0, health.stdout + health.stderr);
    assert.match(health.stdout, new RegExp(`is healthy: got healthy result from ${url}\\ncluster is healthy\\n$`));
    const debug = await ctl(['--debug', 'get', '/tls/a', '--endpoints', url, ...tlsFlags]);
    assert.match(debug.stderr, new RegExp(`got endpoints\\(${url}\\) after sync\\n`), 'the sync learns the https client URL');
  });

  test('the TLS flags also come from DEIMOSCTL_CA_FILE, DEIMOSCTL_CERT_FILE and DEIMOSCTL_KEY_FILE', async () => {
    const env = { DEIMOSCTL_CA_FILE: ca, DEIMOSCTL_CERT_FILE: client.cert, DEIMOSCTL_KEY_FILE: client.key, DEIMOSCTL_ENDPOINTS: url };
    const r = await ctl(['get', '/tls/a'], { env });
    assert.deepEqual([r.code, r.stdout], [0, 'secure\n'], r.stderr);
  });

  test('deimosctl watch receives events over TLS', async () => {
    const w = CtlProcess.start(['watch', '/tls/w', '--endpoints', url, ...tlsFlags]);
    try {
      // The watch may register after a write; write until it prints (it exits after one event).
      await waitFor(async () => {
        if (w.code !== undefined) return true;
        await ctl(['set', '/tls/w', 'seen', '--endpoints', url, ...tlsFlags]);
        return w.stdout !== '';
      }, { timeoutMs: 20_000, intervalMs: 300, what: 'the TLS watch to print' });
      assert.equal(await w.exited, 0, w.stderr);
      assert.equal(w.stdout, 'seen\n');
    } finally {
      await w.stop();
    }
  });

  const refused: Array<[string, () => string[], RegExp]> = [
    ['no client certificate', () => ['--ca-file', ca], /error #0: TLS handshake refused: the server requires a client certificate \(tlsv13 alert certificate required\)\n$/],
    // TLS 1.3: the server checks the certificate after the client's handshake ended; it closes the connection.
    ['a client certificate of another CA', () => ['--ca-file', ca, '--cert-file', stranger.cert, '--key-file', stranger.key], /error #0: (TLS handshake refused: the server does not accept this client certificate|.* \(over TLS: the server may have refused the client certificate\))/],
    ['no CA to verify the server', () => ['--cert-file', client.cert, '--key-file', client.key], /error #0: TLS: cannot verify the server's certificate: self-signed certificate in certificate chain \(is its CA given\?\)\n$/],
  ];
  for (const [what, flags, reason] of refused) {
    test(`deimosctl with ${what} exits 4 (as etcdctl) with one line naming the TLS problem`, async () => {
      for (const sync of [[], ['--no-sync']]) {
        const r = await ctl(['get', '/tls/a', '--endpoints', url, '--timeout', '3s', ...sync, ...flags()]);
        assert.equal(r.code, 4, r.stderr);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
        assert.match(r.stderr, /^Error: {2}cluster is unavailable or misconfigured: [^;]*; error #0: /);
        assert.match(r.stderr, reason);
      }
    });
  }

  test('TLS set-up mistakes get etcdctl\'s plain line and exit 1 before any request', async () => {
    const missing = '/nonexistent/deimos-ca.pem';
    const mistakes: Array<[string, string[], string]> = [
      ['a certificate without its key', ['--ca-file', ca, '--cert-file', client.cert], `KeyFile and CertFile must both be present[key: , cert: ${client.cert}]\n`],
      ['a key without its certificate', ['--ca-file', ca, '--key-file', client.key], `KeyFile and CertFile must both be present[key: ${client.key}, cert: ]\n`],
      ['the key of another certificate', ['--ca-file', ca, '--cert-file', client.cert, '--key-file', stranger.key], 'tls: private key does not match public key\n'],
      ['a CA file that does not exist', ['--ca-file', missing, '--cert-file', client.cert, '--key-file', client.key], `open ${missing}: no such file or directory\n`],
    ];
    for (const [what, flags, line] of mistakes) {
      for (const sync of [[], ['--no-sync']]) {
        const r = await ctl(['get', '/tls/a', '--endpoints', url, '--timeout', '3s', ...sync, ...flags]);
        assert.deepEqual([what, r.code, r.stdout, r.stderr], [what, 1, '', line]);
      }
    }
  });

  test('deimosctl speaking plain HTTP to the TLS port exits 4 with the server\'s answer', async () => {
    const r = await ctl(['get', '/tls/a', '--endpoints', url.replace('https:', 'http:'), '--timeout', '3s', ...tlsFlags]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [4, '', 'Error:  Client sent an HTTP request to an HTTPS server.\n']);
  });

  test('the client library uses the CA and client certificate for sync, keys and watches', async () => {
    const lib = new DeimosClient({
      endpoints: [url], timeoutMs: 5_000,
      tls: { ca: readFileSync(ca), cert: readFileSync(client.cert), key: readFileSync(client.key) },
    });
    try {
      assert.deepEqual(await lib.sync(), [url]);
      const set = await lib.set('/tls/lib', 'one');
      const events = lib.watch('/tls/lib', { afterIndex: set.node!.modifiedIndex });
      await lib.set('/tls/lib', 'two');
      const first = await events.next();
      assert.equal(first.value?.node?.value, 'two');
      await events.return?.();
      assert.equal((await lib.get('/tls/lib')).node?.value, 'two');
      assert.equal(await lib.health(url), true);
    } finally {
      lib.close();
    }
  });

  test('the client library without a client certificate gets ClusterUnavailableError', async () => {
    const lib = new DeimosClient({ endpoints: [url], timeoutMs: 3_000, sync: false, tls: { ca: readFileSync(ca) } });
    try {
      await assert.rejects(lib.get('/tls/lib'), (err: unknown) => err instanceof ClusterUnavailableError);
    } finally {
      lib.close();
    }
  });
});
