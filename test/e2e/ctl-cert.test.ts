/**
 * deimosctl cert: a CA and server/peer/client certificates that openssl verifies, with the asked-for
 * SANs and key usages, 0600 key files, no silent overwrite, and real mutual TLS: a Node https server
 * with server.pem requiring client certificates accepts client.pem and rejects a client without one;
 * deimosctl itself talks to it with --ca-file/--cert-file/--key-file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctl } from './ctl-support.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('deimosctl cert', () => {
  let dir: string;
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deimosctl-cert-'));
    for (const kind of ['ca', 'server', 'peer', 'client']) {
      const extra = kind === 'server' ? ['--ip', '127.0.0.1', '--ip', '10.1.2.3', '--dns', 'localhost', '--dns', 'node1.example.com'] : [];
      const r = await ctl(['cert', kind, '--out-dir', dir, ...extra]);
      assert.equal(r.code, 0, `cert ${kind}: ${r.stderr}`);
      assert.equal(r.stdout, `${join(dir, `${kind}.pem`)}\n${join(dir, `${kind}-key.pem`)}\n`);
    }
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('openssl verifies every certificate against ca.pem', { skip: hasOpenssl() ? false : 'no openssl' }, () => {
    for (const kind of ['server', 'peer', 'client']) {
      const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, `${kind}.pem`)]).toString();
      assert.equal(out.trim(), `${join(dir, `${kind}.pem`)}: OK`);
    }
  });

  test('the certificates carry the CA constraints, SANs and key usages asked for', () => {
    const ca = new X509Certificate(read('ca.pem'));
    assert.ok(ca.ca);
    assert.ok(ca.verify(ca.publicKey));
    const server = new X509Certificate(read('server.pem'));
    assert.ok(server.verify(ca.publicKey));
    assert.ok(!server.ca);
    assert.equal(server.subjectAltName, 'DNS:localhost, DNS:node1.example.com, IP Address:127.0.0.1, IP Address:10.1.2.3');
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.deepEqual(new X509Certificate(read('peer.pem')).keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const client = new X509Certificate(read('client.pem'));
    assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(client.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1'); // the defaults
    const days = (Date.parse(server.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days < 366, `valid for ${days} days`);
    if (hasOpenssl()) {
      const text = execFileSync('openssl', ['x509', '-in', join(dir, 'ca.pem'), '-noout', '-text']).toString();
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
      assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
      assert.match(text, /X509v3 Subject Key Identifier/);
      const leaf = execFileSync('openssl', ['x509', '-in', join(dir, 'server.pem'), '-noout', '-text']).toString();
      assert.match(leaf, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
      assert.match(leaf, /Signature Algorithm: sha256WithRSAEncryption/);
      assert.match(leaf, /Public-Key: \(2048 bit\)/);
    }
  });

  test('key files are 0600', () => {
    for (const kind of ['ca', 'server', 'peer', 'client']) {
      assert.equal(statSync(join(dir, `${kind}-key.pem`)).mode & 0o777, 0o600, kind);
    }
  });

  test('existing files are never overwritten without --force; --name and --days change the output', async () => {
    const before = read('server.pem');
    const r = await ctl(['cert', 'server', '--out-dir', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error:  ${join(dir, 'server.pem')} already exists (use --force to overwrite)\n`);
    assert.equal(read('server.pem'), before);
    const forced = await ctl(['cert', 'server', '--out-dir', dir, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(read('server.pem'), before);
    const named = await ctl(['cert', 'client', '--out-dir', dir, '--name', 'alice', '--days', '10']);
    assert.equal(named.code, 0, named.stderr);
    const alice = new X509Certificate(read('alice.pem'));
    assert.match(alice.subject, /CN=alice/);
    assert.ok((Date.parse(alice.validTo) - Date.now()) / 86_400_000 < 11);
  });

  test('a leaf without a CA explains what to do; a bad --ip is refused', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'deimosctl-noca-'));
    try {
      const r = await ctl(['cert', 'server', '--out-dir', empty]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: {2}cannot read the CA certificate .*ca\.pem: ENOENT \(run `deimosctl cert ca` first/);
      const bad = await ctl(['cert', 'server', '--out-dir', empty, '--ip', 'not-an-ip']);
      assert.deepEqual([bad.code, bad.stderr], [1, 'Error:  not an IP address: not-an-ip\n']);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  describe('mutual TLS with the generated files', () => {
    let server: Server;
    let url: string;

    before(async () => {
      server = createServer({ key: read('server-key.pem'), cert: read('server.pem'), ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('X-Etcd-Index', '7');
        if (req.url?.startsWith('/v2/keys/tls')) {
          res.end(JSON.stringify({ action: 'get', node: { key: '/tls', value: 'secure', modifiedIndex: 7, createdIndex: 7 } }));
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    function get(withClientCert: boolean): Promise<number> {
      return new Promise((resolve, reject) => {
        const req = request(`${url}/v2/keys/tls`, {
          ca: read('ca.pem'),
          ...(withClientCert ? { cert: read('client.pem'), key: read('client-key.pem') } : {}),
        }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    }

    test('accepts a client presenting client.pem', async () => {
      assert.equal(await get(true), 200);
    });

    test('rejects a client without a certificate', async () => {
      await assert.rejects(get(false));
    });

    test('deimosctl reaches it with --ca-file, --cert-file and --key-file, and not without', async () => {
      const tls = ['--ca-file', join(dir, 'ca.pem'), '--cert-file', join(dir, 'client.pem'), '--key-file', join(dir, 'client-key.pem')];
      const ok = await ctl(['get', '/tls', '--no-sync', '--endpoints', url, ...tls]);
      assert.deepEqual([ok.code, ok.stdout], [0, 'secure\n'], ok.stderr);
      const noCert = await ctl(['get', '/tls', '--no-sync', '--endpoints', url, '--ca-file', join(dir, 'ca.pem'), '--timeout', '2s']);
      assert.notEqual(noCert.code, 0);
      assert.equal(noCert.stdout, '');
    });
  });
});
