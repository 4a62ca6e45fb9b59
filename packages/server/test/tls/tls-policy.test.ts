import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { certificateCn, identityCheck, TLS_CIPHERS, TLS_MIN_VERSION } from '../../src/tls/tls-policy.js';

/** The fields of a peer certificate that the checks read. */
function cert(cn: string | string[] | undefined, ip = '127.0.0.1'): PeerCertificate {
  return { subject: cn === undefined ? {} : { CN: cn }, subjectaltname: `IP Address:${ip}` } as unknown as PeerCertificate;
}

test('the policy is TLS 1.2 or newer with forward-secret AEAD suites only', () => {
  assert.equal(TLS_MIN_VERSION, 'TLSv1.2');
  for (const suite of TLS_CIPHERS.split(':')) {
    assert.match(suite, /^(TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+|ECDHE-(RSA|ECDSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305))$/, suite);
  }
});

test('certificateCn reads the subject CN, the last of several (as Go does), or nothing', () => {
  assert.equal(certificateCn(cert('deimos-peer')), 'deimos-peer');
  assert.equal(certificateCn(cert(['a', 'b'])), 'b');
  assert.equal(certificateCn(cert(undefined)), '');
  assert.equal(certificateCn(undefined), '');
});

test('without an allowed CN the default host check applies; with one the CN must match too', () => {
  assert.equal(identityCheck(undefined), undefined);
  const check = identityCheck('deimos-peer')!;
  assert.equal(check('127.0.0.1', cert('deimos-peer')), undefined);
  assert.match(check('127.0.0.1', cert('intruder'))!.message, /CN "intruder" is not the allowed "deimos-peer"/);
  assert.ok(check('127.0.0.2', cert('deimos-peer')) instanceof Error, 'the host name check still runs first');
});
