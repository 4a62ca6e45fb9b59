/** TLS options reach every request: a local https member with a self-signed certificate. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeimosClient } from '../src/client.js';
import { ClusterUnavailableError } from '../src/errors.js';

describe('https endpoints', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let ca: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deimos-client-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'));
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '3' });
      res.end(`${JSON.stringify({ action: 'get', node: { key: '/k', value: 'secure', modifiedIndex: 3, createdIndex: 3 } })}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('trusts the given CA', async () => {
    const c = new DeimosClient({ endpoints: [url], sync: false, tls: { ca } });
    try {
      assert.equal((await c.get('/k')).node?.value, 'secure');
    } finally {
      c.close();
    }
  });

  test('refuses an unknown certificate unless rejectUnauthorized is false', async () => {
    const strict = new DeimosClient({ endpoints: [url], sync: false });
    const lax = new DeimosClient({ endpoints: [url], sync: false, tls: { rejectUnauthorized: false } });
    try {
      await assert.rejects(strict.get('/k'), ClusterUnavailableError);
      assert.equal((await lax.get('/k')).node?.value, 'secure');
    } finally {
      strict.close();
      lax.close();
    }
  });
});
