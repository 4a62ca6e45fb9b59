import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadServerConfig } from '../../src/config/server-config.js';
import { FlagError } from '../../src/config/flag-parser.js';

function run(argv: string[], env: Record<string, string> = {}) {
  const req = loadServerConfig(argv, env, '/work');
  assert.equal(req.kind, 'run');
  return (req as Extract<typeof req, { kind: 'run' }>).config;
}

const HTTPS_CLIENT = ['--listen-client-urls', 'https://127.0.0.1:2379'];
const HTTPS_PEER = ['--listen-peer-urls', 'https://127.0.0.1:2380'];

test('plain http URLs and no certificate flags mean no TLS anywhere', () => {
  const c = run([]);
  assert.equal(c.clientTls, undefined);
  assert.equal(c.peerTls, undefined);
});

test('client TLS flags resolve against the working directory; --ca-file is an alias', () => {
  const c = run([...HTTPS_CLIENT, '--cert-file', 'tls/server.pem', '--key-file', '/abs/server-key.pem', '--ca-file', 'tls/ca.pem', '--client-cert-auth']);
  assert.deepEqual(c.clientTls, { certFile: '/work/tls/server.pem', keyFile: '/abs/server-key.pem', trustedCaFile: '/work/tls/ca.pem', clientCertAuth: true, usages: ['serverAuth'] });
  assert.equal(c.peerTls, undefined);
});

test('a CA requires client certificates, as etcd 3.4 has it: --trusted-ca-file, --ca-file (original Deimos, etcd 2) and their peer flags', () => {
  const c = run([...HTTPS_CLIENT, ...HTTPS_PEER, '--cert-file', 's.pem', '--key-file', 's-key.pem', '--ca-file', 'ca.pem',
    '--peer-cert-file', 'p.pem', '--peer-key-file', 'p-key.pem', '--peer-ca-file', 'ca.pem']);
  assert.deepEqual([c.clientTls?.trustedCaFile, c.clientTls?.clientCertAuth], ['/work/ca.pem', true]);
  assert.deepEqual([c.peerTls?.trustedCaFile, c.peerTls?.clientCertAuth], ['/work/ca.pem', true]);
  const env = run(HTTPS_CLIENT, { DEIMOS_CERT_FILE: 's.pem', DEIMOS_KEY_FILE: 'k.pem', DEIMOS_CA_FILE: 'ca.pem' });
  assert.equal(env.clientTls?.clientCertAuth, true);
  // etcd's TLS server requires client certificates once it has a CA, --client-cert-auth=false or not.
  assert.equal(run([...HTTPS_CLIENT, '--cert-file', 's.pem', '--key-file', 'k.pem', '--trusted-ca-file', 'ca.pem']).clientTls?.clientCertAuth, true);
  assert.equal(run([...HTTPS_CLIENT, '--cert-file', 's.pem', '--key-file', 'k.pem', '--ca-file', 'ca.pem', '--client-cert-auth=false']).clientTls?.clientCertAuth, true);
  const peer = run([...HTTPS_PEER, '--peer-cert-file', 'p.pem', '--peer-key-file', 'p-key.pem', '--peer-trusted-ca-file', 'ca.pem']).peerTls;
  assert.deepEqual([peer?.clientCertAuth, peer?.usages], [true, ['serverAuth', 'clientAuth']]);
  assert.equal(run([...HTTPS_CLIENT, '--cert-file', 's.pem', '--key-file', 'k.pem']).clientTls?.clientCertAuth, false, 'no CA: none asked');
  assert.throws(() => run([...HTTPS_CLIENT, '--cert-file', 's.pem', '--key-file', 'k.pem', '--ca-file', 'a.pem', '--trusted-ca-file', 'b.pem']),
    /^FlagError: --trusted-ca-file and --ca-file name different files; give one$/);
});

test('peer TLS flags come from DEIMOS_ environment variables too', () => {
  const c = run(HTTPS_PEER, {
    DEIMOS_PEER_CERT_FILE: '/t/peer.pem', DEIMOS_PEER_KEY_FILE: '/t/peer-key.pem', DEIMOS_PEER_TRUSTED_CA_FILE: '/t/ca.pem',
    DEIMOS_PEER_CLIENT_CERT_AUTH: 'true', DEIMOS_PEER_CERT_ALLOWED_CN: 'deimos-peer',
  });
  assert.deepEqual(c.peerTls, { certFile: '/t/peer.pem', keyFile: '/t/peer-key.pem', trustedCaFile: '/t/ca.pem', clientCertAuth: true, allowedCn: 'deimos-peer', usages: ['serverAuth', 'clientAuth'] });
});

test('https peer URLs of other members need a peer certificate even when this member listens on http', () => {
  assert.throws(() => run(['--name', 'a', '--bootstrap-config', 'a=http://127.0.0.1:2380,b=https://127.0.0.1:2381']), /https:\/\/127\.0\.0\.1:2381 is an https URL but --peer-cert-file and --peer-key-file are not set/);
  const c = run(['--name', 'a', '--bootstrap-config', 'a=http://127.0.0.1:2380,b=https://127.0.0.1:2381', '--peer-cert-file', 'p.pem', '--peer-key-file', 'k.pem']);
  assert.equal(c.peerTls?.certFile, '/work/p.pem');
});

test('scheme and certificate mismatches are one-line flag errors', () => {
  const bad: Array<[string[], RegExp]> = [
    [HTTPS_CLIENT, /^https:\/\/127\.0\.0\.1:2379 is an https URL but --cert-file and --key-file are not set$/],
    [HTTPS_PEER, /^https:\/\/127\.0\.0\.1:2380 is an https URL but --peer-cert-file and --peer-key-file are not set$/],
    [['--cert-file', 'c.pem', '--key-file', 'k.pem'], /^--cert-file is set but every --listen-client-urls URL is http:\/\/; use https:\/\/ URLs to serve TLS$/],
    [['--peer-cert-file', 'c.pem', '--peer-key-file', 'k.pem'], /^--peer-cert-file is set but every --listen-peer-urls URL is http:\/\//],
    [[...HTTPS_CLIENT, '--cert-file', 'c.pem'], /^--cert-file is set but --key-file is not$/],
    [[...HTTPS_CLIENT, '--key-file', 'k.pem'], /^--key-file is set but --cert-file is not$/],
    [[...HTTPS_CLIENT, '--cert-file', 'c.pem', '--key-file', 'k.pem', '--client-cert-auth'], /^--client-cert-auth needs --trusted-ca-file/],
    [[...HTTPS_PEER, '--peer-cert-file', 'c.pem', '--peer-key-file', 'k.pem', '--peer-cert-allowed-cn', 'x'], /^--peer-cert-allowed-cn needs --peer-client-cert-auth/],
    [['--client-cert-auth'], /^--client-cert-auth needs TLS: set --cert-file and --key-file and use https:\/\/ in --listen-client-urls$/],
    [['--peer-trusted-ca-file', 'ca.pem'], /^--peer-trusted-ca-file needs TLS/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(() => loadServerConfig(argv, {}, '/work'), (err: unknown) => err instanceof FlagError && re.test(err.message), argv.join(' '));
  }
});
