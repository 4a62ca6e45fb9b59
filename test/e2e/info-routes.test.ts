/**
 * The endpoints beside the keys API as etcd's Go server answers them: a path with `//`, `.` or
 * `..` segments is redirected to the cleaned path on every route, /v2/stats answers only its three
 * exact paths, and /metrics answers any method with, among its own, the series etcd's dashboards
 * and alerts read. Runs against etcd too (`DEIMOS_E2E_TARGET`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/http.js';
import { KeysTarget } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';

let target: KeysTarget;

before(async () => {
  target = await KeysTarget.start();
});

after(async () => {
  await target?.destroy();
});

test('a non-canonical path on any route is a 301 to the cleaned one, query kept', async () => {
  const cases: Array<[string, string]> = [
    ['//version', '/version'],
    ['/v2//members', '/v2/members'],
    ['/v2/./machines', '/v2/machines'],
    ['/v2/x/../stats/self?a=1', '/v2/stats/self?a=1'],
    ['/health/.', '/health'],
  ];
  for (const [path, location] of cases) {
    for (const method of ['GET', 'PUT']) {
      const res = await http(method, `${target.clientUrl}${path}`);
      assert.equal(res.status, 301, `${method} ${path}: ${res.body}`);
      assert.equal(res.headers.location, location, `${method} ${path}`);
    }
  }
});

test('/v2/stats serves self, leader and store at exactly those paths', async () => {
  for (const path of ['/v2/stats/foo/self', '/v2/stats/a/b/store', '/v2/stats/', '/v2/stats/foo']) {
    const res = await http('GET', `${target.clientUrl}${path}`);
    assert.equal(res.status, 404, `${path}: ${res.body}`);
    assert.equal(res.body, '404 page not found\n', path);
  }
  assert.equal((await http('GET', `${target.clientUrl}/v2/stats/self`)).status, 200);
});

test('/metrics answers every method with the metrics (HEAD without a body)', async () => {
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD']) {
    const res = await http(method, `${target.clientUrl}/metrics`);
    assert.equal(res.status, 200, `${method}: ${res.body.slice(0, 200)}`);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8', method);
    if (method === 'HEAD') assert.equal(res.body, '');
    else assert.match(res.body, /^# HELP /m, method);
  }
});

test('/metrics carries the etcd and process series that etcd dashboards and alerts read', async () => {
  await http('PUT', `${target.clientUrl}/v2/keys/info-routes-metrics`, { form: { value: 'v' } });
  const text = (await http('GET', `${target.clientUrl}/metrics`)).body;
  const value = (name: string): number => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    assert.ok(m, `${name} missing`);
    return Number(m[1]);
  };
  assert.equal(value('etcd_server_has_leader'), 1);
  assert.equal(value('etcd_server_is_leader'), 1);
  assert.ok(value('etcd_server_leader_changes_seen_total') >= 1);
  assert.ok(value('etcd_server_proposals_committed_total') >= value('etcd_server_proposals_applied_total'));
  assert.ok(value('etcd_server_proposals_applied_total') >= 1);
  assert.equal(value('etcd_server_proposals_pending'), 0);
  assert.ok(value('etcd_disk_wal_fsync_duration_seconds_count') >= 1);
  assert.equal(value('etcd_server_proposals_failed_total'), 0);
  assert.ok(value('etcd_mvcc_db_total_size_in_bytes') > 0);
  // The state database is written behind the log: its commit is counted once it ran.
  await waitFor(async () => /^etcd_disk_backend_commit_duration_seconds_count [1-9]/m.test((await http('GET', `${target.clientUrl}/metrics`)).body),
    { timeoutMs: 10_000, what: 'a state database commit to be counted' });
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_max_fds', 'process_start_time_seconds']) {
    assert.ok(value(name) > 0, name);
  }
});

test('/debug/vars is etcd\'s expvar page: GET only, one variable a line, raft.status as etcd\'s raft prints it', async () => {
  const res = await http('GET', `${target.clientUrl}/debug/vars`);
  assert.equal(res.status, 200, res.body.slice(0, 200));
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.match(res.body, /^\{\n"cmdline": \[.*\],\n"file_descriptor_limit": \d+,\n"memstats": \{.*\},\n"raft\.status": \{.*\}\n\}\n$/);
  const vars = JSON.parse(res.body) as { memstats: Record<string, number>; 'raft.status': Record<string, unknown> & { progress: Record<string, Record<string, unknown>> } };
  for (const name of ['Alloc', 'Sys', 'HeapAlloc', 'HeapSys']) assert.equal(typeof vars.memstats[name], 'number', name);
  const status = vars['raft.status'];
  assert.deepEqual(Object.keys(status), ['id', 'term', 'vote', 'commit', 'lead', 'raftState', 'applied', 'progress', 'leadtransferee']);
  // A single member leads itself; its progress lists itself, replicating up to the commit.
  assert.equal(status.raftState, 'StateLeader');
  assert.equal(status.lead, status.id);
  const own = status.progress[status.id as string]!;
  assert.deepEqual(Object.keys(own), ['match', 'next', 'state']);
  assert.equal(own.state, 'StateReplicate');
  assert.equal(own.match, status.commit);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const refused = await http(method, `${target.clientUrl}/debug/vars`);
    assert.deepEqual([refused.status, refused.headers.allow, refused.body], [405, 'GET', 'Method Not Allowed\n'], method);
  }
  assert.equal((await http('GET', `${target.clientUrl}/debug/vars/`)).status, 404);
});
