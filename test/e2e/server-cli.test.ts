/**
 * The `deimos` command line (version, help, bad flags, DEIMOS_* environment) and the small
 * endpoints around the keys API: read consistency parameters, /version, /health, /machines,
 * /v2/stats/*, /v2/members, CORS and /metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';
import { header, KeysClient, parseJsonBody } from '../support/keys-client.js';
import { deimosOnly, IS_EXTERNAL, KeysTarget, uniqueKey } from '../support/keys-target.js';

let target: KeysTarget;

before(async () => {
  target = await KeysTarget.start({ name: 'cli-node' });
});

after(async () => {
  await target?.destroy();
});

/** Every flag the server documents (packages/server/src/config/server-flags.ts). */
const FLAGS = [
  'name', 'data-dir', 'listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'advertise-peer-urls',
  'bootstrap-config', 'initial-cluster-state', 'initial-cluster-token', 'snapshot-count', 'timeout', 'tick-interval',
  'election-timeout', 'heartbeat-timeout', 'history-size', 'max-request-bytes', 'cors', 'proxy', 'dashboard', 'log-level',
  'version', 'help',
];

function assertNoStackTrace(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `no stack trace in: ${text}`);
}

describe('the deimos command line', { skip: IS_EXTERNAL ? 'needs the deimos binary' : false }, () => {
  test('--version prints the version and exits 0', async () => {
    const res = await DeimosProcess.runOnce(['--version']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^deimos version \d+\.\d+\.\d+\S*\n$/);
  });

  test('--help and -h list every flag with its DEIMOS_ environment variable and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const res = await DeimosProcess.runOnce([flag]);
      assert.equal(res.code, 0, res.stderr);
      for (const name of FLAGS) assert.match(res.stdout, new RegExp(`--${name}\\b`), `${flag} lists --${name}`);
      assert.match(res.stdout, /DEIMOS_LISTEN_CLIENT_URLS/, `${flag} names the environment variables`);
    }
  });

  test('bad flags fail with a clear message on stderr, a non-zero exit and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--no-such-flag'], /no-such-flag/],
      [['--snapshot-count', 'many'], /snapshot-count/],
      [['--election-timeout', '-3'], /election-timeout/],
      [['--listen-client-urls', 'not a url'], /listen-client-urls|not a url/],
      [['--proxy', 'sideways'], /proxy/],
      [['--name', 'ghost', '--bootstrap-config', 'other=http://127.0.0.1:1'], /ghost/],
      [['--name'], /name/],
    ];
    for (const [args, mentions] of cases) {
      const res = await DeimosProcess.runOnce(['--data-dir', `/tmp/deimos-e2e-never-${process.pid}`, ...args]);
      assert.notEqual(res.code, 0, `${args.join(' ')} must fail`);
      assert.notEqual(res.code, null, `${args.join(' ')} must exit`);
      assert.match(res.stderr, mentions, `${args.join(' ')}: stderr names the problem: ${res.stderr}`);
      assertNoStackTrace(res.stderr);
      assertNoStackTrace(res.stdout);
    }
  });

  test('flags can be given as DEIMOS_ environment variables', async () => {
    const p = await DeimosProcess.start({ name: 'env-node', flagsFromEnv: true });
    try {
      let members: any[] = [];
      await waitFor(async () => {
        members = JSON.parse((await http('GET', `${p.clientUrl}/v2/members`)).body).members;
        return members[0]?.name !== '';
      }, { timeoutMs: 5000, what: 'the member to publish its attributes' });
      assert.equal(members.length, 1);
      assert.equal(members[0].name, 'env-node');
      assert.deepEqual(members[0].clientURLs, [p.clientUrl]);
      assert.deepEqual(members[0].peerURLs, [p.peerUrl]);
      const keys = new KeysClient(p.clientUrl);
      assert.equal((await keys.set(uniqueKey('env'), 'v')).status, 201);
    } finally {
      await p.destroy();
    }
  });

  test('a new member answers client requests only once its name and client URLs are published', async () => {
    // etcd serves clients only after the member published its attributes through raft.
    const p = await DeimosProcess.start({ name: 'fresh-node' });
    try {
      const members = JSON.parse((await http('GET', `${p.clientUrl}/v2/members`)).body).members;
      assert.deepEqual(members.map((m: any) => [m.name, m.clientURLs]), [['fresh-node', [p.clientUrl]]]);
      assert.equal((await http('GET', `${p.clientUrl}/v2/machines`)).body, p.clientUrl);
    } finally {
      await p.destroy();
    }
  });

  test('command-line flags win over DEIMOS_ environment variables', async () => {
    const p = await DeimosProcess.start({ name: 'flag-node', env: { DEIMOS_NAME: 'env-loses', DEIMOS_HISTORY_SIZE: 'not-a-number-but-overridden' }, args: ['--history-size', '2000'] });
    try {
      const self = JSON.parse((await http('GET', `${p.clientUrl}/v2/stats/self`)).body);
      assert.equal(self.name, 'flag-node');
    } finally {
      await p.destroy();
    }
  });
});

describe('read consistency parameters', () => {
  test('quorum=true, serializable=true and consistent=false GETs answer like a plain GET', async () => {
    const keys = new KeysClient(target.clientUrl);
    const key = uniqueKey('consistency');
    const set = parseJsonBody(await keys.set(key, 'v')).node;
    for (const q of [{}, { quorum: 'true' }, { quorum: 'false' }, { serializable: 'true' }, { consistent: 'false' }, { consistent: 'true' }] as Array<Record<string, string>>) {
      const res = await keys.get(key, q);
      assert.equal(res.status, 200, `${JSON.stringify(q)}: ${res.body}`);
      assert.deepEqual(parseJsonBody(res), { action: 'get', node: set }, JSON.stringify(q));
      assert.equal(header(res, 'x-etcd-index'), String(set.modifiedIndex));
    }
  });
});

describe('info endpoints', () => {
  test('/version answers JSON with the etcd server and cluster versions and no trailing newline', async () => {
    const res = await http('GET', `${target.clientUrl}/version`);
    assert.equal(res.status, 200);
    assert.ok(!res.body.endsWith('\n'), JSON.stringify(res.body));
    const body = JSON.parse(res.body);
    assert.deepEqual(Object.keys(body), ['etcdserver', 'etcdcluster'], 'etcd\'s fields only');
    assert.match(body.etcdserver, /^\d+\.\d+\.\d+/);
    assert.match(body.etcdcluster, /^\d+\.\d+\.\d+/);
    assert.match(header(res, 'x-deimos-version') ?? '', /^\d+\.\d+\.\d+/, 'deimos\'s own version is a header');
    for (const method of ['POST', 'HEAD']) {
      const other = await http(method, `${target.clientUrl}/version`);
      assert.equal(other.status, 405, method);
      assert.equal(header(other, 'allow'), 'GET');
    }
  });

  test('/health answers {"health":"true"} while the member has a leader', async () => {
    const res = await http('GET', `${target.clientUrl}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.body, '{"health":"true"}');
    assert.equal((await http('POST', `${target.clientUrl}/health`)).status, 405);
  });

  test('/v2/machines lists the advertised client URL as text without a trailing newline', async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await http(method, `${target.clientUrl}/v2/machines`);
      assert.equal(res.status, 200, method);
      assert.equal(header(res, 'content-type'), 'text/plain; charset=utf-8');
      if (method === 'GET') assert.equal(res.body, target.clientUrl);
    }
  });

  test('/machines is the original Deimos spelling of /v2/machines', deimosOnly('/machines is a Deimos endpoint'), async () => {
    const res = await http('GET', `${target.clientUrl}/machines`);
    assert.equal(res.status, 200);
    assert.equal(res.body, target.clientUrl);
    assert.equal(header(res, 'content-type'), 'text/plain; charset=utf-8');
    assert.equal((await http('HEAD', `${target.clientUrl}/machines`)).status, 200);
    assert.equal((await http('DELETE', `${target.clientUrl}/machines`)).status, 405);
  });

  test('/v2/stats/self describes this member as the leader', async () => {
    const res = await http('GET', `${target.clientUrl}/v2/stats/self`);
    assert.equal(res.status, 200);
    assert.equal(header(res, 'x-etcd-index'), undefined, 'stats carry no X-Etcd-Index');
    const self = JSON.parse(res.body);
    if (!IS_EXTERNAL) assert.equal(self.name, 'cli-node');
    assert.match(self.id, /^[0-9a-f]+$/);
    assert.equal(self.state, 'StateLeader');
    assert.ok(!Number.isNaN(Date.parse(self.startTime)), self.startTime);
    assert.equal(self.leaderInfo.leader, self.id);
    assert.match(self.leaderInfo.uptime, /^(\d+h)?(\d+m)?[\d.]+(s|ms|µs)$/);
    assert.ok(!Number.isNaN(Date.parse(self.leaderInfo.startTime)));
    assert.equal(typeof self.recvAppendRequestCnt, 'number');
    assert.equal(typeof self.sendAppendRequestCnt, 'number');
    assert.equal((await http('HEAD', `${target.clientUrl}/v2/stats/self`)).status, 405);
  });

  test('/v2/stats/store has exactly the etcd counters, and they count', async () => {
    const url = `${target.clientUrl}/v2/stats/store`;
    const names = ['getsSuccess', 'getsFail', 'setsSuccess', 'setsFail', 'deleteSuccess', 'deleteFail', 'updateSuccess', 'updateFail',
      'createSuccess', 'createFail', 'compareAndSwapSuccess', 'compareAndSwapFail', 'compareAndDeleteSuccess', 'compareAndDeleteFail',
      'expireCount', 'watchers'];
    const before = JSON.parse((await http('GET', url)).body);
    assert.deepEqual(Object.keys(before).sort(), [...names].sort());
    for (const n of names) assert.ok(Number.isInteger(before[n]), n);
    const keys = new KeysClient(target.clientUrl);
    const key = uniqueKey('stats');
    await keys.set(key, 'v');
    await keys.get(key);
    await keys.get(`${key}-missing`);
    await keys.set(key, 'w', { prevExist: 'false' });
    const after = JSON.parse((await http('GET', url)).body);
    assert.equal(after.setsSuccess, before.setsSuccess + 1);
    assert.equal(after.getsSuccess, before.getsSuccess + 1);
    assert.ok(after.getsFail >= before.getsFail + 1, 'a failed get is counted (etcd also counts some internal lookups)');
    assert.equal(after.createFail, before.createFail + 1);
  });

  test('/v2/stats/leader lists no followers on a one-member cluster', async () => {
    const self = JSON.parse((await http('GET', `${target.clientUrl}/v2/stats/self`)).body);
    const res = await http('GET', `${target.clientUrl}/v2/stats/leader`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { leader: self.id, followers: {} });
  });

  test('/v2/members lists this one member with its name, client and peer URLs', async () => {
    const self = JSON.parse((await http('GET', `${target.clientUrl}/v2/stats/self`)).body);
    for (const path of ['/v2/members', '/v2/members/']) {
      const res = await http('GET', `${target.clientUrl}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(header(res, 'content-type') ?? '', /^application\/json/);
      const { members } = JSON.parse(res.body);
      assert.equal(members.length, 1);
      const [m] = members;
      assert.deepEqual(Object.keys(m), ['id', 'name', 'peerURLs', 'clientURLs']);
      assert.equal(m.id, self.id);
      assert.equal(m.name, self.name);
      assert.deepEqual(m.clientURLs, [target.clientUrl]);
      if (target.process) assert.deepEqual(m.peerURLs, [target.process.peerUrl]);
      else assert.equal(m.peerURLs.length, 1);
    }
    const leader = await http('GET', `${target.clientUrl}/v2/members/leader`);
    assert.equal(leader.status, 200);
    assert.equal(JSON.parse(leader.body).id, self.id);
  });

  test('OPTIONS answers 200 with an empty body and every response carries CORS headers', async () => {
    for (const path of ['/v2/keys/anything', '/version', '/nope']) {
      const res = await http('OPTIONS', `${target.clientUrl}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.body, '');
      assert.equal(header(res, 'access-control-allow-origin'), '*');
    }
    const get = await http('GET', `${target.clientUrl}/v2/keys/`);
    assert.equal(header(get, 'access-control-allow-origin'), '*');
    assert.equal(header(get, 'access-control-allow-methods'), 'POST, GET, OPTIONS, PUT, DELETE');
    // An Origin set by hand (no browser's Sec-Fetch-Site) writes as on etcd, CORS headers included.
    const put = await http('PUT', `${target.clientUrl}/v2/keys/cors-origin-by-hand`, { form: { value: 'v' }, headers: { Origin: 'http://elsewhere.example' } });
    assert.equal(put.status, 201, put.body);
    assert.equal(header(put, 'access-control-allow-origin'), '*');
  });

  test('the deimos binary keeps the V8 young generation at 2 x 4 MiB at most under writes', deimosOnly('a deimos process setting'), async () => {
    // Node's default lets it grow to 2 x 16 MiB: resident memory a member does not need.
    const young = async () => {
      const res = await http('GET', `${target.clientUrl}/metrics`);
      const m = /^deimos_process_heap_young_bytes (\d+)$/m.exec(res.body);
      assert.ok(m, 'the young generation gauge is exported');
      return Number(m[1]);
    };
    const keys = new KeysClient(target.clientUrl);
    const dir = uniqueKey('young');
    // 3,000 writes (8 at a time) grow an untuned young generation past 2 x 4 MiB.
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = c; i < 3000; i += 8) assert.equal((await keys.set(`${dir}/k${i}`, 'v'.repeat(100))).status, 201);
    }));
    assert.ok(await young() <= 8 * 2 ** 20, `young generation ${await young()} bytes`);
  });

  test('/metrics exposes request counts that grow with requests', deimosOnly("etcd's metric names differ"), async () => {
    const total = async () => {
      const res = await http('GET', `${target.clientUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(header(res, 'content-type') ?? '', /^text\/plain/);
      let sum = 0;
      for (const line of res.body.split('\n')) {
        const m = /^([a-z_:]*requests?[a-z_]*)(\{[^}]*\})? (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(line);
        if (m && !m[1]!.endsWith('_bucket') && !m[1]!.endsWith('_sum')) sum += Number(m[3]);
      }
      return sum;
    };
    const before = await total();
    assert.ok(before > 0, 'some request was counted already');
    const keys = new KeysClient(target.clientUrl);
    for (let i = 0; i < 10; i++) await keys.get('/');
    assert.ok((await total()) >= before + 10, 'ten more requests are counted');
  });
});
