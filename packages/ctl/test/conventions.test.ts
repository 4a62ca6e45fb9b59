import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VALUE_FLAGS } from '../src/argv.js';
import { applyEtcdctlEnv } from '../src/etcdctl-env.js';
import { etcdctlArgv } from '../src/etcdctl-argv.js';
import { etcdctlEndpointArgv } from '../src/endpoint-precedence.js';
import { etcdctlFlagOrder, type FlagShape } from '../src/flag-order.js';
import { plainGet } from '../src/fast-get.js';
import { editDistance, unknownCommandMessage } from '../src/unknown-command.js';

test('help and version spellings become oclif\'s, never past --', () => {
  assert.deepEqual(etcdctlArgv(['help']), ['--help']);
  assert.deepEqual(etcdctlArgv(['help', 'member', 'add']), ['member', 'add', '--help']);
  assert.deepEqual(etcdctlArgv(['get', '-h']), ['get', '--help']);
  assert.deepEqual(etcdctlArgv(['-h', 'get', '/k']), ['get', '/k', '--help']);
  assert.deepEqual(etcdctlArgv(['-v']), ['--version']);
  assert.deepEqual(etcdctlArgv(['lock', 'x', '--', 'ls', '-h']), ['lock', 'x', '--', 'ls', '-h']);
  assert.deepEqual(etcdctlArgv(['get', '/k']), ['get', '/k']);
});

test('ETCDCTL_* fills unset DEIMOSCTL_*, in etcdctl\'s precedence; DEIMOSCTL_* wins', () => {
  const env: NodeJS.ProcessEnv = { ETCDCTL_PEERS: 'http://p', ETCDCTL_ENDPOINT: 'http://e', ETCDCTL_CA_FILE: 'ca.pem', DEIMOSCTL_KEY_FILE: 'mine', ETCDCTL_KEY_FILE: 'theirs' };
  applyEtcdctlEnv(env);
  assert.equal(env.DEIMOSCTL_ENDPOINTS, 'http://e');
  assert.equal(env.DEIMOSCTL_CA_FILE, 'ca.pem');
  assert.equal(env.DEIMOSCTL_KEY_FILE, 'mine');
  assert.equal(env.DEIMOSCTL_CERT_FILE, undefined);
  const auth: NodeJS.ProcessEnv = { ETCDCTL_USERNAME: 'alice:pw' };
  applyEtcdctlEnv(auth);
  assert.equal(auth.DEIMOSCTL_USERNAME, 'alice:pw');
});

test('an unknown command is named as typed, with close commands suggested', () => {
  const commandIds = ['get', 'set', 'ls', 'member', 'member:add', 'member:list', 'service', 'service:list'];
  const msg = (...argv: string[]) => unknownCommandMessage({ argv, commandIds, valueFlags: VALUE_FLAGS });
  assert.equal(msg('gt', '/foo'), 'unknown command "gt"; did you mean "get"? (see \'deimosctl --help\')');
  assert.equal(msg('member', 'lst'), 'unknown command "member lst"; did you mean "member list"? (see \'deimosctl --help\')');
  assert.equal(msg('frobnicate'), 'unknown command "frobnicate" (see \'deimosctl --help\')');
  assert.equal(msg('--bogus', 'get'), 'unknown flag: --bogus (see \'deimosctl --help\')');
  assert.equal(msg('--endpoints'), 'flag needs a value: --endpoints');
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('the fast get takes only plain command lines', () => {
  const env = {};
  assert.deepEqual(plainGet(['get', '/k', '-C', 'http://a:1/', '-ojson', '--quorum'], env), {
    key: '/k', endpoints: ['http://a:1'], timeoutMs: 5_000, mode: 'json', sync: true, quorum: true, sorted: false,
  });
  assert.deepEqual(plainGet(['get', '/k', '--no-sync'], { DEIMOSCTL_ENDPOINTS: 'http://b:2,http://b:2' })?.endpoints, ['http://b:2']);
  for (const argv of [['get'], ['get', '/k', '--debug'], ['get', '/k', '--help'], ['get', '/k', '--serializable'], ['get', '/a', '/b'],
    ['get', '/k', '-o', 'yaml'], ['get', '/k', '--endpoints', 'https://a:1'], ['get', '/k', '--total-timeout', '1s'], ['set', '/k', 'v'],
    ['get', '/k', '--timeout', 'soon'], ['get', '/k', '--', 'x'],
    ['get', '/k', '-u', 'alice:pw'], ['get', '/k', '--username=alice'], ['get', '/k', '-ualice:pw']]) {
    assert.equal(plainGet(argv, env), undefined, argv.join(' '));
  }
  assert.equal(plainGet(['get', '/k'], { DEIMOSCTL_CA_FILE: 'ca.pem' }), undefined);
  assert.equal(plainGet(['get', '/k'], { DEIMOSCTL_ENDPOINTS: '' }), undefined);
  // Credentials are sent by the full path only (the fast one would read without them).
  assert.equal(plainGet(['get', '/k'], { DEIMOSCTL_USERNAME: 'alice:pw' }), undefined);
});

test('only the command\'s own flags are flags; other words are arguments, a repeated flag keeps its last value', () => {
  const flags: Record<string, FlagShape> = {
    ttl: { type: 'option' }, output: { type: 'option', char: 'o' }, sync: { type: 'boolean', allowNo: true },
    endpoints: { type: 'option', aliases: ['peers'], charAliases: ['C'] }, recursive: { type: 'boolean', char: 'r' },
  };
  const order = (...argv: string[]) => etcdctlFlagOrder(argv, flags, 2);
  assert.deepEqual(order('/k', '-bar'), ['--', '/k', '-bar']);
  assert.deepEqual(order('/k', 'v'), ['--', '/k', 'v']);
  assert.deepEqual(order('/k', '-5', '--ttl', '7'), ['--ttl', '7', '--', '/k', '-5']);
  assert.deepEqual(order('--ttl', '5', '/k', '--ttl=9', 'v'), ['--ttl=9', '--', '/k', 'v']);
  assert.deepEqual(order('-ojson', '/k', '-o', 'simple'), ['-o', 'simple', '--', '/k']);
  assert.deepEqual(order('--sync', '--no-sync', '-r', '/d'), ['--no-sync', '-r', '--', '/d']);
  assert.deepEqual(order('--peers', 'http://a', '-C', 'http://b'), ['-C', 'http://b']);
  // A value flag takes the next word even when it starts with '-'; a missing one is left for oclif to refuse.
  assert.deepEqual(order('/k', '--ttl', '-1'), ['--ttl', '-1', '--', '/k']);
  assert.deepEqual(order('/k', '--ttl'), ['/k', '--ttl']);
  // Words after -- are arguments as they are.
  assert.deepEqual(order('/k', '--', '--ttl', '-r'), ['--', '/k', '--ttl', '-r']);
  // An unknown flag is an argument only while the command has room for one; past that oclif names it.
  assert.deepEqual(order('/k', '--bogus', 'v'), ['--bogus', '--', '/k', 'v']);
  assert.deepEqual(order('/k', '-x', '-y'), ['-y', '--', '/k', '-x']);
  assert.deepEqual(etcdctlFlagOrder(['--bogus'], flags, 0), ['--bogus']);
});

test('endpoint flags and variables rank as in etcdctl: --endpoints, ETCDCTL_ENDPOINTS, --endpoint, ETCDCTL_ENDPOINT, --peers/-C, ETCDCTL_PEERS', () => {
  const a = 'http://a:1';
  const b = 'http://b:2';
  const c = 'http://c:3';
  assert.deepEqual(etcdctlEndpointArgv(['--peers', b, 'get', '/k'], { ETCDCTL_ENDPOINTS: a }), ['get', '/k', '--endpoints', a]);
  assert.deepEqual(etcdctlEndpointArgv(['-C', b, 'get', '/k'], { ETCDCTL_ENDPOINT: a }), ['get', '/k', '--endpoints', a]);
  assert.deepEqual(etcdctlEndpointArgv(['--endpoint', b, 'get', '/k'], { ETCDCTL_ENDPOINT: a }), ['get', '/k', '--endpoints', b]);
  // --endpoints wins whatever the order; each flag keeps its last value.
  assert.deepEqual(etcdctlEndpointArgv(['--endpoints', a, '--endpoint', b, '--endpoints=' + c, 'get', '/k'], {}), ['get', '/k', '--endpoints', c]);
  assert.deepEqual(etcdctlEndpointArgv(['get', '/k', '--peers', b], { ETCDCTL_PEERS: a }), ['get', '/k', '--endpoints', b]);
  // Our own variable ranks with etcdctl's ETCDCTL_ENDPOINTS.
  assert.deepEqual(etcdctlEndpointArgv(['--peers', b, 'get', '/k'], { DEIMOSCTL_ENDPOINTS: c }), ['get', '/k', '--endpoints', c]);
  // No endpoint flag: unchanged (the variables are read as before); nothing after -- is touched.
  assert.deepEqual(etcdctlEndpointArgv(['get', '/k'], { ETCDCTL_ENDPOINTS: a }), ['get', '/k']);
  assert.deepEqual(etcdctlEndpointArgv(['exec-watch', '/k', '--endpoint', a, '--', 'sh', '--peers', b], {}), ['exec-watch', '/k', '--endpoints', a, '--', 'sh', '--peers', b]);
  // A flag without its value is left for oclif to report.
  assert.deepEqual(etcdctlEndpointArgv(['get', '/k', '--peers'], {}), ['get', '/k', '--peers']);
});
