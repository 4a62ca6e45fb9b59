import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterUnavailableError, DeimosError, OutcomeUnknownError } from '@deimos/client';
import { globalFlagsLast } from '../src/argv.js';
import { usageError } from '../src/ctl-error.js';
import { MEMBERS_FAILURE, UNREACHABLE_FAILURE, describeError, syncFailure } from '../src/describe-error.js';
import { parseDurationMs } from '../src/duration.js';
import { formatMemberAdded, formatMemberLine, shellQuote, splitUrls } from '../src/members.js';
import { recipeLocation } from '../src/recipe-name.js';

test('leading global flags move after the command and its arguments, before any --', () => {
  assert.deepEqual(globalFlagsLast(['-o', 'json', 'get', '/foo']), ['get', '/foo', '-o', 'json']);
  assert.deepEqual(globalFlagsLast(['-u', 'root:pw', 'user', 'list']), ['user', 'list', '-u', 'root:pw']);
  assert.deepEqual(globalFlagsLast(['--username', 'alice', 'get', '/foo']), ['get', '/foo', '--username', 'alice']);
  assert.deepEqual(globalFlagsLast(['--endpoints=http://a', '--no-sync', 'member', 'list']), ['member', 'list', '--endpoints=http://a', '--no-sync']);
  assert.deepEqual(globalFlagsLast(['--timeout', '1s', 'lock', 'x', '--', 'sh', '-o']), ['lock', 'x', '--timeout', '1s', '--', 'sh', '-o']);
  assert.deepEqual(globalFlagsLast(['get', '/foo', '-o', 'json']), ['get', '/foo', '-o', 'json']);
  assert.deepEqual(globalFlagsLast(['--help']), ['--help']);
});

test('durations accept Go-style units and bare seconds', () => {
  assert.equal(parseDurationMs('5s'), 5_000);
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.throws(() => parseDurationMs('2'), /--timeout: invalid duration "2": a unit is required \(e\.g\. --timeout 5s/);
  assert.throws(() => parseDurationMs('0'), /--timeout: duration must be positive/);
  assert.throws(() => parseDurationMs('soon'), /invalid duration/);
  assert.throws(() => parseDurationMs('5x'), /invalid duration/);
});

test('errors map to etcdctl exit codes: server 4, unreachable 2, local 1, members API bare 1', () => {
  assert.deepEqual(describeError(new DeimosError(100, 'Key not found', { cause: '/a', index: 3, status: 404 })), { line: '100: Key not found (/a) [3]', exitCode: 4 });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const down = describeError(new ClusterUnavailableError([refused]));
  assert.deepEqual(down, { line: 'cluster is unavailable or misconfigured: no member could be reached (are the endpoints right, are the members running?); error #0: connect ECONNREFUSED 127.0.0.1:1', exitCode: 4, bare: false });
  assert.deepEqual(describeError(new ClusterUnavailableError([refused]), MEMBERS_FAILURE), { line: down.line, exitCode: 1, bare: true });
  assert.equal(describeError(new ClusterUnavailableError([refused]), UNREACHABLE_FAILURE).exitCode, 2);
  assert.equal(describeError(new OutcomeUnknownError('http://a', new Error('socket hang up'))).exitCode, 4);
  assert.deepEqual(describeError(new DeimosError(0, 'membership: peerURL exists', { status: 409 }), MEMBERS_FAILURE), { line: 'membership: peerURL exists', exitCode: 1, bare: true });
  assert.deepEqual(describeError(new DeimosError(0, 'Client sent an HTTP request to an HTTPS server.', { status: 400 })), { line: 'Client sent an HTTP request to an HTTPS server.', exitCode: 4, bare: false });
  // The members API's bare 500 (a change refused without quorum, or by the strict reconfiguration check) says why it may be.
  const refusedChange = describeError(new DeimosError(0, 'Internal Server Error', { status: 500 }), MEMBERS_FAILURE);
  assert.match(refusedChange.line, /^Internal Server Error: the cluster refused the change \(without a leader and a quorum of connected members/);
  assert.equal(refusedChange.exitCode, 1);
  assert.deepEqual(describeError(usageError('key required')), { line: 'key required', exitCode: 1 });
  assert.deepEqual(describeError(new Error('two\nlines')), { line: 'two lines', exitCode: 1 });
});

test('member lines match etcdctl, started and unstarted', () => {
  const m = { id: 'a1', name: 'n1', peerURLs: ['http://p1', 'http://p2'], clientURLs: ['http://c1'] };
  assert.equal(formatMemberLine(m, 'a1'), 'a1: name=n1 peerURLs=http://p1,http://p2 clientURLs=http://c1 isLeader=true\n');
  assert.equal(formatMemberLine(m, 'b2'), 'a1: name=n1 peerURLs=http://p1,http://p2 clientURLs=http://c1 isLeader=false\n');
  assert.equal(formatMemberLine({ id: 'b2', name: '', peerURLs: ['http://p3'], clientURLs: [] }, 'a1'), 'b2[unstarted]: peerURLs=http://p3\n');
  assert.equal(formatMemberAdded('n2', 'b2', [m, { id: 'b2', name: '', peerURLs: ['http://p3'], clientURLs: [] }], ['http://p3']),
    'Added member named n2 with ID b2 to cluster\n\nDEIMOS_NAME="n2"\nDEIMOS_BOOTSTRAP_CONFIG="n1=http://p1,n1=http://p2,n2=http://p3"\n'
    + 'DEIMOS_INITIAL_CLUSTER_STATE="existing"\nDEIMOS_LISTEN_PEER_URLS="http://p3"\nDEIMOS_ADVERTISE_PEER_URLS="http://p3"\n\n'
    + 'or start it with:\ndeimos --name n2 --bootstrap-config n1=http://p1,n1=http://p2,n2=http://p3 --initial-cluster-state existing '
    + '--listen-peer-urls http://p3 --advertise-peer-urls http://p3\n');
  assert.equal(shellQuote("it's a b"), `'it'\\''s a b'`);
  assert.deepEqual(splitUrls('http://a, http://b,'), ['http://a', 'http://b']);
});

test('lock and election names: bare names use the default directory, paths are used as given', () => {
  assert.deepEqual(recipeLocation('deploy'), { name: 'deploy' });
  assert.deepEqual(recipeLocation('/locks/deploy'), { name: 'locks/deploy', prefix: '' });
});

test('a sync that failed at the network level on every endpoint exits 2; TLS or server failures let the command go on', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const tls = Object.assign(new Error('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  assert.equal(syncFailure(new ClusterUnavailableError([refused, refused]))?.exitCode, 2);
  assert.equal(syncFailure(new ClusterUnavailableError([refused, tls])), undefined);
  assert.equal(syncFailure(new DeimosError(0, 'not found', { status: 404 })), undefined);
});

test('a cluster failure says what happened in deimos\'s words: timeouts, no quorum, the proxy\'s cause', () => {
  const timeout = Object.assign(new Error("Timeout awaiting 'request' for 2000ms"), {
    name: 'TimeoutError', code: 'ETIMEDOUT', event: 'request', options: { url: new URL('http://127.0.0.1:5/v2/keys/a'), timeout: { request: 2000 } },
  });
  const read = describeError(new ClusterUnavailableError([timeout]), undefined, { linearizableRead: true }).line;
  assert.equal(read, 'cluster is unavailable or misconfigured: no member answered within --timeout: a linearizable read needs a leader and a quorum of members; are most members up and connected? (--serializable answers from the member\'s own store); error #0: http://127.0.0.1:5: no answer within 2s');
  const write = describeError(new ClusterUnavailableError([timeout])).line;
  assert.match(write, /this needs a leader and a quorum of members/);
  assert.doesNotMatch(write, /serializable|Timeout awaiting|etcd cluster/);
  const proxy = new DeimosError(300, 'Raft Internal Error', { cause: 'deimos-proxy: no cluster member answered (last: http://m1: ECONNREFUSED)', status: 503 });
  assert.match(describeError(new ClusterUnavailableError([proxy])).line, /error #0: Raft Internal Error \(deimos-proxy: no cluster member answered \(last: http:\/\/m1: ECONNREFUSED\)\)$/);
});
