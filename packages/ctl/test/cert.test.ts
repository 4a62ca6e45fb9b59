import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generateCa, invalidIps, issueLeaf } from '../src/cert/issue.js';

test('a leaf certificate is signed by the CA and carries the SANs and validity asked for', () => {
  const ca = generateCa({ commonName: 'Test CA', days: 30 });
  const leaf = issueLeaf({ kind: 'peer', commonName: 'node1', ca, ips: ['127.0.0.1', '::1'], dns: ['localhost'], days: 2 });
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(leaf.certPem);
  assert.ok(caCert.ca);
  assert.ok(cert.verify(caCert.publicKey));
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.deepEqual(cert.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.ok(Date.parse(cert.validTo) - Date.now() < 2 * 86_400_000 + 60_000);
  assert.match(leaf.keyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
});

test('--ip values must be IP addresses', () => {
  assert.deepEqual(invalidIps(['127.0.0.1', '::1', 'localhost', '10.0.0.300']), ['localhost', '10.0.0.300']);
});
