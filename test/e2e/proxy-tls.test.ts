/**
 * deimos-proxy with TLS on both sides: an https listener that requires client certificates
 * (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth), and https members reached with the
 * same CA, certificate and key as client credentials. Certificates come from the openssl CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { ProxyProcess } from '../support/proxy-process.js';

const SKIP = IS_EXTERNAL ? 'needs its own processes' : false;

/** A CA and one certificate for 127.0.0.1/localhost usable as server and client. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=deimos-test-ca');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  run('x509', '-req', '-in', 'node.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'node.pem'), key: join(dir, 'node.key') };
}

function get(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('deimos-proxy over TLS', { skip: SKIP }, () => {
  let dir: string;
  let files: { ca: string; cert: string; key: string };
  let member: Server;
  let memberUrl: string;
  let proxy: ProxyProcess;
  const seenClientCerts: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deimos-proxy-tls-'));
    files = makeCerts(dir);
    const [ca, cert, key] = [readFileSync(files.ca), readFileSync(files.cert), readFileSync(files.key)];
    member = createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      seenClientCerts.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? ''));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url === '/v2/members'
        ? JSON.stringify({ members: [{ id: '1', name: 'm', peerURLs: [], clientURLs: [memberUrl] }] })
        : JSON.stringify({ action: 'get', node: { key: '/tls', value: 'secure' } }));
    });
    await new Promise<void>((r) => member.listen(0, '127.0.0.1', r));
    memberUrl = `https://127.0.0.1:${(member.address() as AddressInfo).port}`;
    proxy = await ProxyProcess.start({
      https: true,
      args: ['--endpoints', memberUrl, '--cert-file', files.cert, '--key-file', files.key, '--ca-file', files.ca, '--client-cert-auth'],
    });
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => (member ? member.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('forwards an https request with a client certificate to an https member that requires one', async () => {
    const res = await get(`${proxy.url}/v2/keys/tls`, { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) });
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).node.value, 'secure');
    assert.ok(seenClientCerts.includes('127.0.0.1'), 'the proxy presented its certificate to the member');
  });

  test('refuses a client without a certificate when --client-cert-auth is set', async () => {
    await assert.rejects(get(`${proxy.url}/v2/keys/tls`, { ca: readFileSync(files.ca) }));
  });
});
