/**
 * TLS start-up errors of the real `deimos` binary: a scheme/certificate mismatch is a flag error
 * (exit 2), an unusable certificate file is a start error (exit 1); each is one line on stderr,
 * with no stack trace, and no data directory is created for a member that cannot start.
 *
 * e2e-lane: beside (one member at a time, mostly waiting on its timeouts; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { freePorts } from '../support/ports.js';
import { TestCerts } from '../support/tls-certs.js';

describe('TLS start-up errors', () => {
  let certs: TestCerts;
  let work: string;
  let client: string;
  let peer: string;

  before(async () => {
    certs = await TestCerts.create();
    await Promise.all([certs.issue('server', 'server'), certs.issue('peer', 'peer'), certs.issue('client', 'client')]);
    work = mkdtempSync(join(tmpdir(), 'deimos-tls-start-'));
    writeFileSync(join(work, 'garbage.pem'), 'hello\n');
    const [c, p] = await freePorts(2);
    client = `127.0.0.1:${c}`;
    peer = `127.0.0.1:${p}`;
  });
  after(() => {
    certs?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs deimos with the URLs and `tls` flags; returns exit code and the stderr lines. */
  async function start(scheme: { client: string; peer: string }, tls: string[]): Promise<{ code: number | null; lines: string[]; dataDirMade: boolean }> {
    const dataDir = join(work, `data-${Math.random().toString(36).slice(2)}`);
    const r = await DeimosProcess.runOnce(['--name', 'n1', '--data-dir', dataDir,
      '--listen-client-urls', `${scheme.client}://${client}`, '--listen-peer-urls', `${scheme.peer}://${peer}`, ...tls]);
    return { code: r.code, lines: r.stderr.split('\n').filter((l) => l !== ''), dataDirMade: existsSync(dataDir) };
  }

  const PLAIN = { client: 'http', peer: 'http' };
  const CLIENT_TLS = { client: 'https', peer: 'http' };
  const PEER_TLS = { client: 'http', peer: 'https' };

  test('an https listen URL without a certificate is a flag error', async () => {
    const r = await start(CLIENT_TLS, []);
    assert.deepEqual([r.code, r.lines], [2, [`deimos: https://${client} is an https URL but --cert-file and --key-file are not set`]]);
    const p = await start(PEER_TLS, []);
    assert.deepEqual([p.code, p.lines], [2, [`deimos: https://${peer} is an https URL but --peer-cert-file and --peer-key-file are not set`]]);
  });

  test('a certificate with only http listen URLs is a flag error', async () => {
    const r = await start(PLAIN, ['--cert-file', certs.path('server.pem'), '--key-file', certs.path('server-key.pem')]);
    assert.deepEqual([r.code, r.lines], [2, ['deimos: --cert-file is set but every --listen-client-urls URL is http://; use https:// URLs to serve TLS']]);
  });

  test('an unreadable, non-PEM or mismatched certificate file stops the start with one line', async () => {
    const cases: Array<[typeof PLAIN, string[], string]> = [
      [CLIENT_TLS, ['--cert-file', join(work, 'missing.pem'), '--key-file', certs.path('server-key.pem')], `--cert-file ${join(work, 'missing.pem')}: cannot read: ENOENT`],
      [CLIENT_TLS, ['--cert-file', join(work, 'garbage.pem'), '--key-file', certs.path('server-key.pem')], `--cert-file ${join(work, 'garbage.pem')}: not a PEM file`],
      [CLIENT_TLS, ['--cert-file', certs.path('server.pem'), '--key-file', certs.path('peer-key.pem')],
        `--key-file ${certs.path('peer-key.pem')} does not match the certificate in --cert-file ${certs.path('server.pem')}`],
      [CLIENT_TLS, ['--cert-file', certs.path('server-key.pem'), '--key-file', certs.path('server-key.pem')], `--cert-file ${certs.path('server-key.pem')}: not a valid certificate`],
      [PEER_TLS, ['--peer-cert-file', certs.path('peer.pem'), '--peer-key-file', certs.path('peer-key.pem'), '--peer-trusted-ca-file', join(work, 'garbage.pem')],
        `--peer-trusted-ca-file ${join(work, 'garbage.pem')}: not a PEM file`],
    ];
    for (const [scheme, tls, message] of cases) {
      const r = await start(scheme, tls);
      assert.equal(r.code, 1, r.lines.join('\n'));
      assert.equal(r.lines.length, 1, r.lines.join('\n'));
      assert.ok(r.lines[0]!.startsWith(`deimos: cannot start: ${message}`), r.lines[0]);
      assert.equal(r.dataDirMade, false);
    }
  });

  test('a certificate without the extended key usage its side needs stops the start with one line', async () => {
    const lacks = (flag: string, file: string, usage: string) => `--${flag} ${certs.path(file)}: the certificate's extended key usage lacks ${usage}`;
    const cases: Array<[typeof PLAIN, string[], string]> = [
      // A client certificate (clientAuth only) served by the client listener: every client would fail.
      [CLIENT_TLS, ['--cert-file', certs.path('client.pem'), '--key-file', certs.path('client-key.pem')], lacks('cert-file', 'client.pem', 'serverAuth')],
      [PEER_TLS, ['--peer-cert-file', certs.path('client.pem'), '--peer-key-file', certs.path('client-key.pem')], lacks('peer-cert-file', 'client.pem', 'serverAuth')],
      // A server certificate (serverAuth only) presented to members that ask for a client certificate.
      [PEER_TLS, ['--peer-cert-file', certs.path('server.pem'), '--peer-key-file', certs.path('server-key.pem'), '--peer-trusted-ca-file', certs.path('ca.pem'), '--peer-client-cert-auth'],
        lacks('peer-cert-file', 'server.pem', 'clientAuth')],
      [PEER_TLS, ['--peer-cert-file', certs.path('server.pem'), '--peer-key-file', certs.path('server-key.pem'), '--peer-ca-file', certs.path('ca.pem')],
        lacks('peer-cert-file', 'server.pem', 'clientAuth')],
    ];
    for (const [scheme, tls, message] of cases) {
      const r = await start(scheme, tls);
      assert.equal(r.code, 1, r.lines.join('\n'));
      assert.equal(r.lines.length, 1, r.lines.join('\n'));
      assert.ok(r.lines[0]!.startsWith(`deimos: cannot start: ${message}`), r.lines[0]);
      assert.equal(r.dataDirMade, false);
    }
  });

  test('a CA requires client certificates, on the client and the peer port, as etcd has it: --trusted-ca-file alone, and --ca-file (the original Deimos and etcd 2 flag); --help says so', async () => {
    for (const [clientCa, peerCa] of [['--trusted-ca-file', '--peer-trusted-ca-file'], ['--ca-file', '--peer-ca-file']] as const) {
      const node = await DeimosProcess.start({
        clientScheme: 'https', peerScheme: 'https', clientTls: certs.credentials({ cert: certs.path('client.pem'), key: certs.path('client-key.pem') }),
        args: ['--cert-file', certs.path('server.pem'), '--key-file', certs.path('server-key.pem'), clientCa, certs.path('ca.pem'),
          '--peer-cert-file', certs.path('peer.pem'), '--peer-key-file', certs.path('peer-key.pem'), peerCa, certs.path('ca.pem')],
      });
      try {
        // With a client certificate signed by the CA: served (DeimosProcess.start waited for that).
        assert.equal((await http('GET', `${node.clientUrl}/v2/keys/`, { tls: node.clientTls })).status, 200);
        // Without one: refused at the handshake, on the client and on the peer port alike.
        await assert.rejects(http('GET', `${node.clientUrl}/v2/keys/`, { tls: certs.credentials() }), `${clientCa}: no client certificate`);
        await assert.rejects(http('GET', `${node.peerUrl}/members`, { tls: certs.credentials() }), `${peerCa}: no peer certificate`);
        assert.equal((await http('GET', `${node.peerUrl}/members`, { tls: certs.credentials({ cert: certs.path('peer.pem'), key: certs.path('peer-key.pem') }) })).status, 200);
      } finally {
        await node.destroy();
      }
    }
    const help = await DeimosProcess.runOnce(['--help']);
    assert.match(help.stdout, /--trusted-ca-file <value>\n\s+PEM CA bundle that client certificates must chain to; given, every client must present one/);
    assert.match(help.stdout, /--ca-file <value>\n\s+The original Deimos \(and etcd 2\) flag: --trusted-ca-file, i\.e\. every client must present a certificate signed by this CA/);
    assert.match(help.stdout, /--peer-ca-file <value>\n\s+The original Deimos \(and etcd 2\) flag: --peer-trusted-ca-file, i\.e\. members must present/);
  });
});
