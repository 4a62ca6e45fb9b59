import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionErrorText } from '../src/connection-error-text.js';
import { neverReached } from '../src/request.js';

const coded = (code: string, message: string) => Object.assign(new Error(message), { code });
const OPENSSL = '80CC2D19337F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n';

test('TLS failures get one line with what to fix instead of OpenSSL\'s text', () => {
  assert.equal(connectionErrorText(coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', OPENSSL), true),
    'TLS handshake refused: the server requires a client certificate (tlsv13 alert certificate required)');
  assert.match(connectionErrorText(coded('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'x:SSL routines:f:tlsv1 alert unknown ca:y'), true), /^TLS handshake refused: the server does not accept this client certificate \(tlsv1 alert unknown ca\)$/);
  assert.match(connectionErrorText(coded('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), true), /cannot verify the server's certificate: self-signed .* \(is its CA given\?\)$/);
  assert.equal(connectionErrorText(coded('ECONNRESET', 'socket hang up'), true), 'socket hang up (over TLS: the server may have refused the client certificate)');
  assert.equal(connectionErrorText(coded('ECONNRESET', 'socket hang up'), false), 'socket hang up');
  assert.equal(connectionErrorText(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), false), 'connect ECONNREFUSED 127.0.0.1:1');
});

test('a request refused at the TLS handshake never reached the server (safe to send elsewhere); a reset did not say so', () => {
  assert.equal(neverReached(coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', '')), true);
  assert.equal(neverReached(coded('SELF_SIGNED_CERT_IN_CHAIN', '')), true);
  assert.equal(neverReached(coded('ECONNREFUSED', '')), true);
  assert.equal(neverReached(coded('ECONNRESET', '')), false);
  assert.equal(neverReached(coded('ETIMEDOUT', '')), false);
});
