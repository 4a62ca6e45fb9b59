import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadServerConfig } from '../../src/config/server-config.js';
import { FlagError } from '../../src/config/flag-parser.js';

function run(argv: string[], env: Record<string, string> = {}) {
  const req = loadServerConfig(argv, env, '/work');
  assert.equal(req.kind, 'run');
  return (req as Extract<typeof req, { kind: 'run' }>).config;
}

test('no flags at all gives the embedded single-node default', () => {
  const c = run([]);
  assert.equal(c.name, 'default');
  assert.deepEqual(c.listenClientUrls, ['http://127.0.0.1:4001']);
  assert.deepEqual(c.listenPeerUrls, ['http://127.0.0.1:7001']);
  assert.equal(c.dataDir, '/work/default.deimos');
  assert.equal(c.initialCluster.length, 1);
  assert.equal(c.initialCluster[0]!.name, 'default');
});

test('the original README single-node command line is accepted', () => {
  const c = run(['--name', 'node1', '--listen-client-urls', 'http://127.0.0.1:4001', '--advertise-client-urls', 'http://127.0.0.1:4001',
    '--listen-peer-urls', 'http://127.0.0.1:7001', '--advertise-peer-urls', 'http://127.0.0.1:7001', '--bootstrap-config', 'node1=http://localhost:7001']);
  assert.equal(c.memberId, '6e712280117b0012');
  assert.deepEqual(c.initialCluster.map((m) => m.peerUrls), [['http://localhost:7001']]);
});

test('member IDs match the original Deimos scheme for a three-node bootstrap config', () => {
  const c = run(['-name', 'node2', '-bootstrap-config', 'node1=http://localhost:7001,node2=http://localhost:7002,node3=http://localhost:7003']);
  assert.deepEqual(c.initialCluster.map((m) => m.id), ['6e712280117b0012', '6ade02c9ba201df0', '6457e457865eb69e']);
  assert.equal(c.memberId, '6ade02c9ba201df0');
});

test('etcd flag names are aliases and the cluster token changes the cluster ID', () => {
  const a = run(['--name=n1', '--initial-cluster=n1=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster-state', 'existing']);
  const b = run(['--name=n1', '--initial-cluster=n1=http://127.0.0.1:2380', '--initial-cluster-token', 'other']);
  assert.equal(a.initialClusterState, 'existing');
  assert.notEqual(a.clusterId, b.clusterId);
});

test('flags come from DEIMOS_ environment variables, and the command line wins', () => {
  const c = run(['--snapshot-count', '7'], { DEIMOS_NAME: 'envname', DEIMOS_SNAPSHOT_COUNT: '99', DEIMOS_DATA_DIR: '/tmp/x' });
  assert.equal(c.name, 'envname');
  assert.equal(c.snapshotCount, 7);
  assert.equal(c.dataDir, '/tmp/x');
});

test('bad flags are reported as FlagError with a clear message', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--nope'], /unknown flag/],
    [['--snapshot-count', 'abc'], /invalid integer/],
    [['--listen-client-urls', 'ftp://x:1'], /scheme/],
    [['--listen-client-urls', 'http://127.0.0.1'], /port/],
    [['--initial-cluster-state', 'maybe'], /one of new, existing/],
    [['--timeout', 'soon'], /invalid duration/],
    [['--timeout', '1'], /--timeout: invalid duration "1": a unit is required/],
    [['--tick-interval', '100'], /--tick-interval: invalid duration "100": a unit is required/],
    [['--timeout', '0'], /--timeout: duration must be positive/],
    [['--name'], /needs a value/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(() => loadServerConfig(argv, {}, '/'), (err: unknown) => err instanceof FlagError && re.test(err.message), argv.join(' '));
  }
});

test('a --name that --initial-cluster lacks is noted for a new data directory, not refused: a restart ignores the list', () => {
  const c = run(['--name', 'zz', '--bootstrap-config', 'a=http://127.0.0.1:1']);
  assert.match(c.bootstrapProblem ?? '', /^no member named "zz" in --initial-cluster \(--bootstrap-config: a=http:\/\/127\.0\.0\.1:1\)$/);
  assert.equal(run(['--name', 'a', '--listen-peer-urls', 'http://127.0.0.1:1', '--bootstrap-config', 'a=http://127.0.0.1:1']).bootstrapProblem, undefined);
});

test('a list that names a URL twice, or gives this member URLs it does not advertise, is noted for a new data directory (etcd refuses both)', () => {
  const dup = run(['--name', 'a', '--listen-peer-urls', 'http://127.0.0.1:1', '--initial-cluster', 'a=http://127.0.0.1:1,b=http://127.0.0.1:1']);
  assert.equal(dup.bootstrapProblem, '--initial-cluster (--bootstrap-config) has duplicate URL http://127.0.0.1:1 (members "a" and "b")');
  const elsewhere = run(['--name', 'a', '--listen-peer-urls', 'http://127.0.0.1:2', '--initial-cluster', 'a=http://127.0.0.1:1,b=http://127.0.0.1:3']);
  assert.match(elsewhere.bootstrapProblem ?? '', /has a=http:\/\/127\.0\.0\.1:1 but it is missing from --initial-advertise-peer-urls \(--advertise-peer-urls: http:\/\/127\.0\.0\.1:2\)/);
  const more = run(['--name', 'a', '--advertise-peer-urls', 'http://127.0.0.1:1,http://127.0.0.1:2', '--initial-cluster', 'a=http://127.0.0.1:1']);
  assert.match(more.bootstrapProblem ?? '', /has http:\/\/127\.0\.0\.1:2 but --initial-cluster \(--bootstrap-config\) lists a=http:\/\/127\.0\.0\.1:1/);
  // A host name is not resolved: the original README's localhost list beside 127.0.0.1 URLs starts.
  const readme = run(['--name', 'node2', '--advertise-peer-urls', 'http://127.0.0.1:7002', '--bootstrap-config', 'node1=http://localhost:7001,node2=http://localhost:7002']);
  assert.equal(readme.bootstrapProblem, undefined);
  const otherPort = run(['--name', 'node2', '--advertise-peer-urls', 'http://127.0.0.1:7009', '--bootstrap-config', 'node1=http://localhost:7001,node2=http://localhost:7002']);
  assert.match(otherPort.bootstrapProblem ?? '', /node2=http:\/\/localhost:7002 but it is missing/);
});

test('every name of a flag has its environment variable (etcd\'s ETCD_INITIAL_CLUSTER is DEIMOS_INITIAL_CLUSTER), the main name\'s first', () => {
  const c = run([], { DEIMOS_NAME: 'b', DEIMOS_INITIAL_CLUSTER: 'a=http://127.0.0.1:1,b=http://127.0.0.1:2', DEIMOS_INITIAL_ADVERTISE_PEER_URLS: 'http://127.0.0.1:2', DEIMOS_REQUEST_TIMEOUT: '9s' });
  assert.deepEqual(c.initialCluster.map((m) => m.name), ['a', 'b']);
  assert.deepEqual(c.advertisePeerUrls, ['http://127.0.0.1:2']);
  assert.equal(c.requestTimeoutMs, 9000);
  assert.equal(c.bootstrapProblem, undefined);
  assert.equal(run([], { DEIMOS_TIMEOUT: '3s', DEIMOS_REQUEST_TIMEOUT: '9s' }).requestTimeoutMs, 3000);
});

test("etcd's ETCD_<FLAG> variables are read after the DEIMOS_ ones; a flag on the command line shadows both, with a warning", () => {
  const etcdOnly = run([], { ETCD_NAME: 'b', ETCD_INITIAL_CLUSTER: 'a=http://127.0.0.1:1,b=http://127.0.0.1:2', ETCD_INITIAL_ADVERTISE_PEER_URLS: 'http://127.0.0.1:2' });
  assert.equal(etcdOnly.name, 'b');
  assert.deepEqual(etcdOnly.initialCluster.map((m) => m.name), ['a', 'b']);
  assert.equal(etcdOnly.bootstrapProblem, undefined);
  assert.equal(run([], { DEIMOS_NAME: 'd', ETCD_NAME: 'e' }).name, 'd', 'DEIMOS_ first');
  const req = loadServerConfig(['--name', 'f'], { DEIMOS_NAME: 'd', ETCD_NAME: 'e' }, '/work');
  assert.equal(req.kind, 'run');
  const started = req as Extract<typeof req, { kind: 'run' }>;
  assert.equal(started.config.name, 'f');
  assert.deepEqual(started.warnings, [
    'environment variable DEIMOS_NAME is shadowed by the flag --name (the flag is used)',
    'environment variable ETCD_NAME is shadowed by the flag --name (the flag is used)',
  ]);
  assert.throws(() => loadServerConfig([], { ETCD_ELECTION_TIMEOUT: '1000' }, '/work'), /^FlagError: environment variable ETCD_ELECTION_TIMEOUT 1000 is in ticks/);
});

test('a URL given twice in a listen list is one listener (as etcd takes it); a query is named as such', () => {
  assert.deepEqual(run(['--listen-client-urls', 'http://127.0.0.1:4001,http://127.0.0.1:4001']).listenClientUrls, ['http://127.0.0.1:4001']);
  assert.throws(() => run(['--listen-client-urls', 'http://127.0.0.1:4001?x=1']), /^FlagError: --listen-client-urls: URL must not have a query or fragment: http:\/\/127\.0\.0\.1:4001\?x=1$/);
});

test("start warnings: etcd's log levels past error, a variable shadowed by another, --client-cert-auth=false beside a CA, the election timeout as given", () => {
  const warnings = (argv: string[], env: Record<string, string> = {}) => {
    const r = loadServerConfig(argv, env, '/work');
    assert.equal(r.kind, 'run');
    return r as Extract<typeof r, { kind: 'run' }>;
  };
  const panic = warnings([], { ETCD_LOG_LEVEL: 'panic' });
  assert.equal(panic.config.logLevel, 'error');
  assert.deepEqual(panic.warnings, ["environment variable ETCD_LOG_LEVEL panic is etcd's: taken as error (deimos logs debug, info, warn and error)"]);
  assert.throws(() => loadServerConfig(['--log-level', 'loud'], {}, '/work'), /--log-level must be one of/);
  assert.deepEqual(warnings([], { DEIMOS_NAME: 'a', ETCD_NAME: 'b' }).warnings, ['environment variable ETCD_NAME is shadowed by DEIMOS_NAME (DEIMOS_NAME is used)']);
  const tls = warnings(['--listen-client-urls', 'https://127.0.0.1:2379', '--cert-file', 's.pem', '--key-file', 'k.pem', '--trusted-ca-file', 'ca.pem', '--client-cert-auth=false']);
  assert.equal(tls.config.clientTls?.clientCertAuth, true);
  assert.deepEqual(tls.warnings, ['--client-cert-auth=false is overridden: with --trusted-ca-file client certificates are required (as etcd requires them once it has a CA)']);
  assert.match(warnings([], { DEIMOS_ELECTION_TIMEOUT: '300' }).warnings[0]!, /^the election timeout is 30 s \(environment variable DEIMOS_ELECTION_TIMEOUT 300 ticks of --tick-interval 100 ms\)/);
});

test("an election timeout over 10 s, or under 5 heartbeats (etcd refuses that), is a warning at start", () => {
  const warnings = (argv: string[]) => (loadServerConfig(argv, {}, '/work') as { warnings: string[] }).warnings;
  assert.deepEqual(warnings(['--election-timeout', '100']), []);
  assert.deepEqual(warnings(['--election-timeout', '10', '--heartbeat-timeout', '2']), []);
  assert.deepEqual(warnings(['--election-timeout', '6', '--heartbeat-timeout', '2']), [
    'the election timeout (6 ticks) is under 5 heartbeats (--heartbeat-timeout 2 ticks), which etcd refuses: a few late heartbeats start an election',
  ]);
  assert.deepEqual(warnings(['--election-timeout', '500']), [
    "the election timeout is 50 s (--election-timeout 500 ticks of --tick-interval 100 ms); etcd counts --election-timeout in milliseconds: etcd's --election-timeout=500 is --election-timeout 5 here",
  ]);
});

test('an election timeout past 50 s is refused with its units explained; durations past a timer\'s range are refused', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--election-timeout', '1000'], /^--election-timeout 1000 is in ticks of --tick-interval \(100 ms\): 100 s, more than the 50 s allowed\. etcd counts it in milliseconds/],
    [['--election-timeout', '9007199254740991'], /more than the 50 s allowed/],
    [['--tick-interval', '10s', '--election-timeout', '6'], /60 s, more than the 50 s allowed/],
    [['--timeout', '1000h'], /^--timeout: duration "1000h" is too long \(at most 2147483647 ms/],
    [['--tick-interval', '600h'], /--tick-interval: duration "600h" is too long/],
    [['--heartbeat-interval', '100'], /^unknown flag: --heartbeat-interval \(etcd's\): deimos counts raft time in ticks/],
    [['--enable-v2=false'], /deimos serves the v2 API only/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(() => loadServerConfig(argv, {}, '/'), (err: unknown) => err instanceof FlagError && re.test(err.message), argv.join(' '));
  }
  assert.equal(run(['--tick-interval', '5s', '--election-timeout', '10']).electionTicks, 10);
  assert.equal(run(['--enable-v2']).name, 'default');
  assert.equal(run(['--enable-v2=true', '--timeout', '596h']).requestTimeoutMs, 596 * 3_600_000);
});

test('a flag given twice takes its last value, as Go flag parsing (and etcd) does', () => {
  const c = run(['--name', 'first', '--data-dir', '/a', '--name', 'last', '-data-dir=/b', '--bootstrap-config', 'x=http://127.0.0.1:1', '--bootstrap-config', 'last=http://127.0.0.1:2']);
  assert.equal(c.name, 'last');
  assert.equal(c.dataDir, '/b');
  assert.deepEqual(c.initialCluster.map((m) => m.name), ['last']);
  // Every occurrence is still checked.
  assert.throws(() => run(['--snapshot-count', 'x', '--snapshot-count', '5']), /invalid integer value "x"/);
});

test('an explicit default port (:80, :443) is a port', () => {
  const c = run(['--listen-client-urls', 'http://127.0.0.1:80', '--listen-peer-urls', 'http://127.0.0.1:7001',
    '--advertise-client-urls', 'http://localhost:80,https://[::1]:443']);
  assert.deepEqual(c.listenClientUrls, ['http://127.0.0.1:80']);
  assert.deepEqual(c.advertiseClientUrls, ['http://localhost:80', 'https://[::1]:443']);
  assert.deepEqual(run(['--bootstrap-config', 'default=https://127.0.0.1:443', '--advertise-peer-urls', 'https://127.0.0.1:443',
    '--peer-cert-file', 'p', '--peer-key-file', 'k']).initialCluster[0]!.peerUrls, ['https://127.0.0.1:443']);
  for (const url of ['http://127.0.0.1', 'http://127.0.0.1:', 'https://[::1]']) {
    assert.throws(() => run(['--listen-client-urls', url]), /URL must name a port/, url);
  }
});

test('an advertised URL with port 0 is refused: no one can dial it', () => {
  assert.throws(() => run(['--listen-peer-urls', 'http://127.0.0.1:0']),
    /^FlagError: --advertise-peer-urls: http:\/\/127\.0\.0\.1:0 has port 0, which the other members cannot dial \(taken from --listen-peer-urls/);
  assert.throws(() => run(['--advertise-client-urls', 'http://127.0.0.1:0']), /^FlagError: --advertise-client-urls: http:\/\/127\.0\.0\.1:0 has port 0, which clients cannot dial$/);
  const c = run(['--listen-peer-urls', 'http://127.0.0.1:0', '--advertise-peer-urls', 'http://127.0.0.1:7001']);
  assert.deepEqual(c.initialCluster[0]!.peerUrls, ['http://127.0.0.1:7001'], 'listening on port 0 is the operator\'s business');
});

test('listening on 0.0.0.0 or [::] needs the advertise flag (etcd refuses the same way)', () => {
  assert.throws(() => run(['--listen-client-urls', 'http://0.0.0.0:4001']),
    /^FlagError: --advertise-client-urls is required when --listen-client-urls is set explicitly \(http:\/\/0\.0\.0\.0:4001 listens on every address/);
  assert.throws(() => run(['--listen-peer-urls', 'http://[::]:7001']), /^FlagError: --advertise-peer-urls is required when --listen-peer-urls is set explicitly/);
  const c = run(['--listen-client-urls', 'http://0.0.0.0:4001', '--advertise-client-urls', 'http://10.0.0.1:4001',
    '--listen-peer-urls', 'http://0.0.0.0:7001', '--advertise-peer-urls', 'http://10.0.0.1:7001']);
  assert.deepEqual(c.advertiseClientUrls, ['http://10.0.0.1:4001']);
  assert.deepEqual(c.initialCluster[0]!.peerUrls, ['http://10.0.0.1:7001']);
});

test('--help and --version are recognised in both spellings', () => {
  assert.equal(loadServerConfig(['-h'], {}, '/').kind, 'help');
  assert.equal(loadServerConfig(['--version'], {}, '/').kind, 'version');
  assert.equal(loadServerConfig(['-version'], {}, '/').kind, 'version');
});

test('the dashboard is on by default; --dashboard=false and DEIMOS_DASHBOARD=false turn it off', () => {
  assert.equal(run([]).dashboard, true);
  assert.equal(run(['--dashboard=false']).dashboard, false);
  assert.equal(run([], { DEIMOS_DASHBOARD: 'false' }).dashboard, false);
  assert.equal(run(['--dashboard'], { DEIMOS_DASHBOARD: 'false' }).dashboard, true);
});

test('a bad value is reported under the name it was given: an etcd alias, or the environment variable', () => {
  const bad: Array<[string[], Record<string, string>, RegExp]> = [
    [['--request-timeout=abc'], {}, /^--request-timeout: invalid duration "abc"/],
    [[], { DEIMOS_LISTEN_CLIENT_URLS: 'ftp://x:1' }, /^environment variable DEIMOS_LISTEN_CLIENT_URLS: URL scheme must be http or https/],
    [[], { DEIMOS_REQUEST_TIMEOUT: '1000h' }, /^environment variable DEIMOS_REQUEST_TIMEOUT: duration "1000h" is too long/],
    [['--timeout', 'x'], {}, /^--timeout: invalid duration "x"/],
  ];
  for (const [argv, env, re] of bad) {
    assert.throws(() => loadServerConfig(argv, env, '/'), (err: unknown) => err instanceof FlagError && re.test(err.message), `${argv.join(' ')} ${JSON.stringify(env)}`);
  }
  assert.match(run(['--initial-cluster', 'a=http://x']).bootstrapProblem ?? '', /^--initial-cluster: URL must name a port: http:\/\/x$/);
});
