/** Unit tests of the proxy's pure parts: flags and config, the endpoint pool, self-address, the read-only rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoClientWorkers, cpuBudget } from '@deimos/net';
import { EndpointPool } from '../src/endpoint-pool.js';
import { parseProxyArgs, parseProxyWorkers, type ProxyConfig } from '../src/proxy-config.js';
import { proxyModeRequested } from '../src/proxy-main.js';
import { readonlyRefuses } from '../src/readonly-guard.js';
import { resolvesToSelf } from '../src/self-address.js';
import { isWatchRequest } from '../src/watch-request.js';
import { plainRequestHead, requestHead } from '../src/upstream-head.js';
import { servesDashboardLocally } from '../src/dashboard-paths.js';

function config(argv: string[], env: Record<string, string> = {}, opts = {}): ProxyConfig {
  const r = parseProxyArgs(argv, env, opts);
  assert.equal(r.kind, 'run');
  return r.config;
}

test('defaults: listen on 127.0.0.1:8080, mode on, 30 s refresh, 5 s failure wait, 1 s dial timeout', () => {
  const c = config(['--endpoints', 'http://127.0.0.1:2379']);
  assert.deepEqual(c.listenUrls, ['http://127.0.0.1:8080']);
  assert.equal(c.mode, 'on');
  assert.equal(c.refreshIntervalMs, 30_000);
  assert.equal(c.failureWaitMs, 5_000);
  assert.equal(c.dialTimeoutMs, 1_000);
});

test('variables named like the proxy\'s settings that no flag reads are reported, etcd\'s with the name read instead', () => {
  const r = parseProxyArgs(['--endpoints', 'http://127.0.0.1:2379'], {
    DEIMOS_PROXY_ENDPOINT: 'http://x:1', DEIMOS_PROXY_WORKER_INDEX: '1', DEIMOS_PROXY_REFRESH_INTERVAL: '1s', ETCD_INITIAL_CLUSTER: 'a=http://x:1', DEIMOS_NAME: 'n', PATH: '/bin',
  });
  assert.equal(r.kind, 'run');
  assert.deepEqual(r.unreadEnvironment, [
    'environment variable DEIMOS_PROXY_ENDPOINT is not a setting of this program and is ignored (see --help for the DEIMOS_PROXY_* names)',
    'environment variable ETCD_INITIAL_CLUSTER is etcd\'s and is not read: this program reads DEIMOS_PROXY_INITIAL_CLUSTER',
  ]);
  // As `deimos --proxy`, the member's own variables are read (and ignored) without a warning.
  const inMember = parseProxyArgs(['--proxy', 'on', '--endpoints', 'http://127.0.0.1:2379'], { DEIMOS_PROXY_ENDPOINTS: 'x', DEIMOS_TYPO: '1' }, {
    envPrefix: 'DEIMOS', tolerated: [{ name: 'data-dir', kind: 'string', description: 'x' }],
  });
  assert.equal(inMember.kind, 'run');
  assert.deepEqual(inMember.unreadEnvironment, ['environment variable DEIMOS_TYPO is not a setting of this program and is ignored (see --help for the DEIMOS_* names)']);
});

test("as `deimos --proxy`, etcd's ETCD_<FLAG> variables are read after the DEIMOS_ ones, as a member reads them", () => {
  const env = { ETCD_INITIAL_CLUSTER: 'a=http://127.0.0.1:7001', ETCD_PROXY: 'readonly', DEIMOS_LISTEN_CLIENT_URLS: 'http://127.0.0.1:4101', ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:4102' };
  assert.equal(proxyModeRequested([], env, 'DEIMOS', 'ETCD'), true);
  assert.equal(proxyModeRequested([], { ...env, DEIMOS_PROXY: 'off' }, 'DEIMOS', 'ETCD'), false, 'DEIMOS_PROXY first');
  assert.equal(proxyModeRequested([], env, 'DEIMOS'), false, 'not without the fallback');
  const r = parseProxyArgs([], env, { envPrefix: 'DEIMOS', fallbackEnvPrefix: 'ETCD' });
  assert.equal(r.kind, 'run');
  const c = (r as Extract<typeof r, { kind: 'run' }>).config;
  assert.equal(c.mode, 'readonly');
  assert.deepEqual(c.listenUrls, ['http://127.0.0.1:4101']);
  assert.deepEqual((r as Extract<typeof r, { kind: 'run' }>).unreadEnvironment, []);
});

test('flags come from DEIMOS_PROXY_* variables unless given on the command line', () => {
  const env = { DEIMOS_PROXY_ENDPOINTS: 'http://a:1,http://b:2', DEIMOS_PROXY_PROXY: 'readonly', DEIMOS_PROXY_FAILURE_WAIT: '250ms' };
  const c = config(['-failure-wait=2s'], env);
  assert.deepEqual(c.endpoints, ['http://a:1', 'http://b:2']);
  assert.equal(c.mode, 'readonly');
  assert.equal(c.failureWaitMs, 2_000);
});

test('--bootstrap-config gives sorted unique peer URLs; --ca-file is an alias of --trusted-ca-file', () => {
  const c = config(['--bootstrap-config', 'b=http://127.0.0.1:7002,a=http://127.0.0.1:7001,a=http://127.0.0.1:7001', '--ca-file', '/x/ca.pem']);
  assert.deepEqual(c.bootstrapPeerUrls, ['http://127.0.0.1:7001', 'http://127.0.0.1:7002']);
  assert.equal(c.tls.trustedCaFile, '/x/ca.pem');
});

test('a trusted CA requires client certificates in `deimos --proxy` (as etcd 3.4\'s proxy mode), not standalone', () => {
  const argv = ['--endpoints', 'http://a:1', '--listen-client-urls', 'https://127.0.0.1:8443', '--cert-file', 'c.pem', '--key-file', 'k.pem', '--trusted-ca-file', 'ca.pem'];
  assert.equal(config(argv, {}, { envPrefix: 'DEIMOS', caRequiresClientCerts: true }).tls.clientCertAuth, true);
  assert.equal(config(argv).tls.clientCertAuth, false, 'deimos-proxy: only with --client-cert-auth');
  assert.equal(config([...argv, '--client-cert-auth']).tls.clientCertAuth, true);
  assert.equal(config(argv.slice(0, -2), {}, { envPrefix: 'DEIMOS', caRequiresClientCerts: true }).tls.clientCertAuth, false, 'no CA, no client certificates');
});

test('rejects a missing cluster, bad modes, URLs with paths, https without a certificate, and unknown flags', () => {
  const bad: Array<[string[], RegExp]> = [
    [[], /--endpoints/],
    [['--endpoints', 'http://a:1', '--proxy', 'off'], /--proxy must be one of on, readonly/],
    [['--endpoints', 'http://a:1/v2'], /must not have a path/],
    [['--endpoints', 'http://a:1', '--listen-client-urls', 'https://127.0.0.1:8443'], /needs --cert-file/],
    [['--endpoints', 'http://a:1', '--client-cert-auth'], /needs --trusted-ca-file/],
    [['--endpoints', 'http://a:1', '--name', 'x'], /unknown flag: --name/],
    [['--endpoints', 'http://a:1', '--refresh-interval', 'soon'], /invalid duration/],
    [['--endpoints', 'http://a:1', '--dial-timeout', '1'], /--dial-timeout: invalid duration "1": a unit is required/],
    [['--endpoints', 'http://a:1', '--failure-wait', '5000'], /--failure-wait: invalid duration "5000": a unit is required/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parseProxyArgs(argv, {}), message, argv.join(' '));
});

test('a flag given twice takes its last value (Go flag parsing, as etcd)', () => {
  const c = config(['--endpoints', 'http://a:1', '--proxy', 'on', '--endpoints', 'http://b:2', '--proxy=readonly']);
  assert.deepEqual(c.endpoints, ['http://b:2']);
  assert.equal(c.mode, 'readonly');
});

test('an explicit default port (:80, :443) is a port', () => {
  const c = config(['--endpoints', 'http://127.0.0.1:80,https://localhost:443', '--listen-client-urls', 'http://127.0.0.1:80',
    '--bootstrap-config', 'a=http://127.0.0.1:80']);
  assert.deepEqual(c.endpoints, ['http://127.0.0.1:80', 'https://localhost:443']);
  assert.deepEqual(c.listenUrls, ['http://127.0.0.1:80']);
  assert.deepEqual(c.bootstrapPeerUrls, ['http://127.0.0.1:80']);
  assert.throws(() => parseProxyArgs(['--endpoints', 'http://127.0.0.1'], {}), /URL must name a port/);
  const pool = new EndpointPool(5000);
  pool.setUrls(['http://127.0.0.1:80']);
  assert.equal(pool.all()[0]!.port, 80);
});

test('under `deimos --proxy`, member flags are tolerated and the environment prefix is DEIMOS', () => {
  const tolerated = [{ name: 'name', kind: 'string' as const, description: '' }, { name: 'snapshot-count', kind: 'integer' as const, description: '' }];
  const c = config(['--proxy', 'readonly', '--name', 'n1', '--snapshot-count', '5'], { DEIMOS_BOOTSTRAP_CONFIG: 'n1=http://127.0.0.1:7001' }, { envPrefix: 'DEIMOS', tolerated, defaultListenUrl: 'http://127.0.0.1:4001' });
  assert.equal(c.mode, 'readonly');
  assert.deepEqual(c.bootstrapPeerUrls, ['http://127.0.0.1:7001']);
  assert.deepEqual(c.listenUrls, ['http://127.0.0.1:4001']);
});

test('--client-workers: auto by default (as the member: one per CPU but one, up to 16, none with 2 CPUs or fewer), or a count up to 64; the member flag of the same name drives it under deimos --proxy', () => {
  assert.equal(config(['--endpoints', 'http://127.0.0.1:2379']).clientWorkers, autoClientWorkers(cpuBudget()));
  assert.equal(config(['--endpoints', 'http://127.0.0.1:2379', '--client-workers', '0']).clientWorkers, 0);
  assert.equal(config(['--endpoints', 'http://127.0.0.1:2379', '--client-workers', '3']).clientWorkers, 3);
  assert.equal(config([], { DEIMOS_PROXY_ENDPOINTS: 'http://a:1', DEIMOS_PROXY_CLIENT_WORKERS: '4' }).clientWorkers, 4);
  assert.equal(parseProxyWorkers('auto', () => 2), 0);
  assert.equal(parseProxyWorkers('auto', () => 4), 3);
  assert.equal(parseProxyWorkers('auto', () => 64), 16);
  for (const bad of ['-1', '65', 'many', '']) assert.throws(() => parseProxyWorkers(bad, () => 4), /--client-workers must be 'auto' or an integer from 0 to 64/, bad);
  const tolerated = [{ name: 'client-workers', kind: 'string' as const, description: 'the member flag' }];
  const c = config(['--proxy', 'on', '--endpoints', 'http://a:1'], { DEIMOS_CLIENT_WORKERS: '2' }, { envPrefix: 'DEIMOS', tolerated });
  assert.equal(c.clientWorkers, 2);
});

test('proxy mode is requested by --proxy on|readonly or DEIMOS_PROXY, not by --proxy off', () => {
  assert.equal(proxyModeRequested(['--proxy', 'on'], {}), true);
  assert.equal(proxyModeRequested(['-proxy=readonly'], {}), true);
  assert.equal(proxyModeRequested(['--proxy', 'off'], { DEIMOS_PROXY: 'on' }), false);
  assert.equal(proxyModeRequested([], { DEIMOS_PROXY: 'readonly' }), true);
  assert.equal(proxyModeRequested(['--name', 'x'], {}), false);
});

test('the pool prefers the lowest latency, spreads by requests in flight, and skips failed members until the wait ends', () => {
  let now = 1000;
  const pool = new EndpointPool(5000, () => now);
  pool.setUrls(['http://a:1', 'http://b:2']);
  const [a, b] = pool.all() as [ReturnType<typeof pool.all>[number], ReturnType<typeof pool.all>[number]];
  pool.recordLatency(a, 1);
  pool.recordLatency(b, 3);
  assert.equal(pool.pick(), a);
  a.inFlight = 5; // 1 ms × 6 > 3 ms × 1
  assert.equal(pool.pick(), b);
  a.inFlight = 0;
  pool.markFailed(a);
  assert.equal(pool.pick(), b);
  assert.equal(pool.pick(new Set([b])), undefined);
  now += 5001;
  assert.equal(pool.pick(), a);
});

test('a wait its client gave up on ranks a member by that wait alone, and its next answer (the stale probe) ranks it again', () => {
  let now = 1000;
  const pool = new EndpointPool(5000, () => now);
  pool.setUrls(['http://a:1', 'http://b:2']);
  const [a, b] = pool.all() as [ReturnType<typeof pool.all>[number], ReturnType<typeof pool.all>[number]];
  pool.recordLatency(a, 1);
  pool.recordLatency(b, 2);
  pool.recordUnanswered(a, 3000); // paused: a client gave up after 3 s
  assert.equal(a.latencyEwmaMs, 3000);
  assert.equal(pool.pick(), b);
  pool.recordUnanswered(b, 1); // shorter than what it answers in: no news
  assert.equal(b.latencyEwmaMs, 2);
  now = 3000;
  pool.recordLatency(b, 2); // b serves meanwhile
  now = 6001; // a's latency is stale: a is probed, and answers at once
  assert.equal(pool.pick(), a);
  pool.recordLatency(a, 1);
  assert.equal(a.latencyEwmaMs, 1, 'not averaged down from 3 s over many answers');
  assert.equal(pool.pick(), a);
});

test('a member not measured for a failure wait is picked once to measure it again, so a slow one that dies is found', () => {
  let now = 1000;
  const pool = new EndpointPool(5000, () => now);
  pool.setUrls(['http://a:1', 'http://b:2', 'http://c:3']);
  const [a, b, c] = pool.all() as [ReturnType<typeof pool.all>[number], ReturnType<typeof pool.all>[number], ReturnType<typeof pool.all>[number]];
  pool.recordLatency(a, 1);
  pool.recordLatency(b, 1);
  pool.recordLatency(c, 180); // a cold first request
  /** The members picked every 10 ms until `until` (a and b answer in 1 ms; c's answers, if any, are not in yet). */
  const busyUntil = (until: number) => {
    const picked = new Set<string>();
    for (; now < until; now += 10) {
      const e = pool.pick()!;
      picked.add(e.url);
      if (e !== c) pool.recordLatency(e, 1);
    }
    return [...picked].sort();
  };
  // While a and b answer faster, the latency alone never picks c again.
  assert.deepEqual(busyUntil(6000), ['http://a:1', 'http://b:2']);
  // A failure wait without a sample: c is picked once (its probe), then ranked by its old latency again.
  assert.equal(pool.pick(), c);
  assert.deepEqual(busyUntil(11_000), ['http://a:1', 'http://b:2']);
  // c died meanwhile: its next probe fails, and it is then tried again after every failure wait.
  assert.equal(pool.pick(), c);
  pool.markFailed(c, 'ECONNREFUSED');
  assert.deepEqual(busyUntil(16_000), ['http://a:1', 'http://b:2']);
  assert.equal(pool.pick(), c);
  // A probe that answers fast brings c back among the members its latency picks.
  pool.recordLatency(c, 1);
  assert.ok(busyUntil(17_000).includes('http://c:3'));
});

test('a new member (no latency yet) is tried first; setUrls keeps the health of members that stay', () => {
  const pool = new EndpointPool(5000);
  pool.setUrls(['http://a:1']);
  const a = pool.all()[0]!;
  pool.recordLatency(a, 2);
  pool.markFailed(a);
  const change = pool.setUrls(['http://a:1', 'http://c:3']);
  assert.deepEqual(change, { added: ['http://c:3'], removed: [] });
  assert.equal(pool.all()[0], a);
  assert.ok(pool.isFailed(a));
  assert.equal(pool.pick()?.url, 'http://c:3');
  assert.deepEqual(pool.setUrls(['http://c:3']).removed, ['http://a:1']);
});

test('recognises its own listen address by name, by IP and behind a wildcard listener', async () => {
  assert.equal(await resolvesToSelf('http://localhost:8080', [{ address: '127.0.0.1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://127.0.0.1:8080', [{ address: '0.0.0.0', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://127.0.0.1:8081', [{ address: '127.0.0.1', port: 8080 }]), false);
  assert.equal(await resolvesToSelf('http://127.0.0.2:8080', [{ address: '127.0.0.1', port: 8080 }]), false);
  // A connection to an unspecified address lands on loopback; an IPv4-mapped address is its IPv4 one.
  assert.equal(await resolvesToSelf('http://0.0.0.0:8080', [{ address: '127.0.0.1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://0.0.0.0:8080', [{ address: '0.0.0.0', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://[::]:8080', [{ address: '::1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://[::ffff:127.0.0.1]:8080', [{ address: '127.0.0.1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://[0:0:0:0:0:ffff:7f00:1]:8080', [{ address: '127.0.0.1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://[::ffff:127.0.0.1]:8080', [{ address: '0.0.0.0', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://127.0.0.1:8080', [{ address: '::ffff:127.0.0.1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://[0:0:0:0:0:0:0:1]:8080', [{ address: '::1', port: 8080 }]), true);
  assert.equal(await resolvesToSelf('http://0.0.0.0:8081', [{ address: '127.0.0.1', port: 8080 }]), false);
  assert.equal(await resolvesToSelf('http://[::ffff:127.0.0.2]:8080', [{ address: '127.0.0.1', port: 8080 }]), false);
});

test('read-only mode lets only GET and HEAD through', () => {
  assert.deepEqual(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH'].map(readonlyRefuses), [false, false, true, true, true, true, true]);
});

test('a GET is a watch exactly when the member parses its first wait query value as true (Go ParseBool)', () => {
  for (const v of ['true', '1', 't', 'T', 'TRUE', 'True', '%74rue', 'tru%65']) {
    assert.equal(isWatchRequest('GET', `/v2/keys/a?wait=${v}`), true, v);
  }
  for (const q of ['w%61it=1', 'recursive=true&wait=t', 'wait=T&wait=false', '&&wait=1&', 'wait=1;x=2&wait=1', 'wait=%zz&wait=1', 'w+ait=0&wait=True', 'wait=true&stream=true']) {
    assert.equal(isWatchRequest('GET', `/v2/keys/a?${q}`), true, q);
  }
  for (const v of ['false', '0', 'f', 'F', 'FALSE', 'False', '', 'yes', 'tRUE', 'true ', '+true', 'true%00', '%zz']) {
    assert.equal(isWatchRequest('GET', `/v2/keys/a?wait=${v}`), false, v);
  }
  for (const q of ['', 'wait', 'wait=0&wait=1', 'waits=true', 'wait;=true', 'wait=1;', 'x=wait%3Dtrue']) {
    assert.equal(isWatchRequest('GET', `/v2/keys/a?${q}`), false, q);
  }
  assert.equal(isWatchRequest('GET', '/v2/keys/a'), false);
  // The member answers wait on any other method with error 209 at once, and reads no GET body.
  for (const m of ['HEAD', 'PUT', 'POST', 'DELETE']) assert.equal(isWatchRequest(m, '/v2/keys/a?wait=true'), false, m);
});

test('--peer-cert-file, --peer-key-file and --peer-trusted-ca-file (or DEIMOS_PROXY_PEER_*) are read; cert and key go together', () => {
  const c = config(['--bootstrap-config', 'a=https://127.0.0.1:7001', '--peer-cert-file', '/x/peer.pem', '--peer-key-file', '/x/peer-key.pem', '--peer-ca-file', '/x/ca.pem']);
  assert.deepEqual([c.tls.peerCertFile, c.tls.peerKeyFile, c.tls.peerTrustedCaFile], ['/x/peer.pem', '/x/peer-key.pem', '/x/ca.pem']);
  const fromEnv = config(['--endpoints', 'http://127.0.0.1:2379'], { DEIMOS_PROXY_PEER_TRUSTED_CA_FILE: '/y/ca.pem' });
  assert.equal(fromEnv.tls.peerTrustedCaFile, '/y/ca.pem');
  assert.throws(() => parseProxyArgs(['--endpoints', 'http://127.0.0.1:2379', '--peer-cert-file', '/x/peer.pem'], {}), /--peer-cert-file and --peer-key-file go together/);
});

test('Authorization reaches the member unchanged on both forwarding paths; Proxy-Authorization does not', () => {
  const auth = 'Basic YWxpY2U6cHc=';
  const plain = plainRequestHead(
    { method: 'GET', url: '/v2/keys/app/x', version: 'HTTP/1.1', headers: new Map([['host', 'p'], ['authorization', auth], ['proxy-authorization', 'Basic eA==']]) },
    0, '127.0.0.1', '127.0.0.1:8080', 'proxy-1',
  );
  assert.match(plain, new RegExp(`\r\nauthorization: ${auth}\r\n`));
  assert.doesNotMatch(plain, /proxy-authorization/i);
  const incoming = {
    method: 'PUT', url: '/v2/keys/app/x', headers: {},
    rawHeaders: ['Host', 'p', 'Authorization', auth, 'Proxy-Authorization', 'Basic eA=='],
    socket: { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' },
  } as unknown as Parameters<typeof requestHead>[0];
  const head = requestHead(incoming, Buffer.from('value=1'), 'proxy-1');
  assert.match(head, new RegExp(`\r\nAuthorization: ${auth}\r\n`));
  assert.doesNotMatch(head, /proxy-authorization/i);
});

test('the dashboard is on by default; --dashboard=false and DEIMOS_PROXY_DASHBOARD=false turn it off', () => {
  const ep = ['--endpoints', 'http://127.0.0.1:2379'];
  assert.equal(config(ep).dashboard, true);
  assert.equal(config([...ep, '--dashboard=false']).dashboard, false);
  assert.equal(config(ep, { DEIMOS_PROXY_DASHBOARD: 'false' }).dashboard, false);
});

test('the proxy answers the dashboard files itself and forwards the dashboard API', () => {
  assert.equal(servesDashboardLocally('/dashboard/'), true);
  assert.equal(servesDashboardLocally('/dashboard'), true);
  assert.equal(servesDashboardLocally('/dashboard/app-ABCD1234.js?x=1'), true);
  assert.equal(servesDashboardLocally('/dashboard/api/cluster'), false);
  assert.equal(servesDashboardLocally('/v2/keys/dashboard'), false);
  assert.equal(servesDashboardLocally('/dashboardx'), false);
});
