/**
 * Runtime membership changes through the members API while clients keep writing: a fourth member
 * joins (POST, then a process started with --initial-cluster-state existing) and catches up; a member
 * is removed (DELETE) and exits by itself; and the members API errors as etcd answers them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster, assertAllAcked, membershipChange } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';
import { freePorts } from '../support/ports.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** POST /v2/members with a raw body and content type. */
function postMembers(m: DeimosProcess, body: string, contentType = 'application/json'): Promise<TestResponse> {
  return http('POST', `${m.clientUrl}/v2/members`, { body, headers: { 'Content-Type': contentType } });
}

/** Request options that send `value` as an application/json body. */
function jsonBody(value: unknown): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } };
}

/** Asserts a members API error: status, `{"message": ...}` JSON, cluster id header. */
function assertMembersError(res: TestResponse, status: number, message: string): void {
  assert.equal(res.status, status, `status of ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, 'JSON error');
  assert.deepEqual(res.json, { message }, `body of the ${status}`);
  assert.match(String(res.headers['x-etcd-cluster-id']), /^[0-9a-f]+$/, 'X-Etcd-Cluster-Id');
}

describe('membership changes at runtime', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let added: DeimosProcess;
  let removed: { member: DeimosProcess; id: string };
  const prefix = uniqueKey('membership');

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
  });

  after(async () => {
    await cluster?.destroy();
  });

  async function members(via: DeimosProcess): Promise<MemberJson[]> {
    const res = await http('GET', `${via.clientUrl}/v2/members`);
    assert.equal(res.status, 200, res.body);
    return res.json.members;
  }

  test('a fourth member added while clients write joins, catches up and converges', async (t) => {
    const load = cluster.startWriteLoad(`${prefix}/add`, 3);
    let id: string;
    try {
      await waitFor(() => load.count >= 50, { timeoutMs: 20_000, what: '50 writes before the change' });
      const started = Date.now();
      const joined = await cluster.addMember('node4');
      added = joined.member;
      id = joined.id;
      t.diagnostic(`node4 (${id}) answered ${Date.now() - started} ms after the POST`);
      assert.match(id, /^[1-9a-f][0-9a-f]*$/);
      // etcd answers the POST with the unstarted member: no name, no client URLs yet; so does the list.
      const unstarted = { id, name: '', peerURLs: [`http://127.0.0.1:${new URL(added.peerUrl).port}`], clientURLs: [] };
      assert.deepEqual(joined.added, unstarted, 'the 201 body');
      assert.deepEqual(joined.listed.find((mm: MemberJson) => mm.id === id), unstarted, 'listed before it started');
      assert.equal(joined.listed.length, 4);
      const ackedAtJoin = load.count;
      await waitFor(() => load.acked.slice(ackedAtJoin).filter((w) => w.via === 'node4').length >= 20, {
        timeoutMs: 20_000, what: '20 writes acknowledged through the new member',
      });
    } finally {
      await load.stop();
    }
    await cluster.waitConverged({ timeoutMs: 30_000 });
    await assertAllAcked(added, `${prefix}/add`, load.acked);
    await waitFor(async () => {
      for (const m of cluster.live()) {
        const list = await members(m);
        const mine = list.find((mm) => mm.id === id);
        if (list.length !== 4 || mine?.name !== 'node4' || mine.clientURLs[0] !== added.clientUrl) return false;
      }
      return true;
    }, { timeoutMs: 10_000, what: 'every member to list node4 with its name and client URL' });
  });

  test('a member removed while clients write (the DELETE sent to that member itself, as etcdctl may send it) answers 204, exits by itself, and the cluster keeps working', async (t) => {
    const load = cluster.startWriteLoad(`${prefix}/remove`, 3);
    let victim: DeimosProcess;
    try {
      await waitFor(() => load.count >= 50, { timeoutMs: 20_000, what: '50 writes before the removal' });
      const leader = await cluster.leader();
      victim = cluster.followers(leader).find((m) => m !== added)!;
      const id = await cluster.idOf(victim);
      const started = Date.now();
      // Through the member removed: it answers before it stops (removeMember asserts the 204).
      await cluster.removeMember(victim, { via: victim });
      removed = { member: victim, id };
      t.diagnostic(`${victim.name} exited with code ${victim.exitCode} ${Date.now() - started} ms after the DELETE`);
      // As etcd says it: what the operator must do before this member can come back.
      assert.match(victim.output, /removed from the cluster; the data directory used by this member \(.*\) must be removed before it is added again/);
      const ackedAtRemoval = load.count;
      await waitFor(() => load.count >= ackedAtRemoval + 50, { timeoutMs: 20_000, what: '50 writes after the removal' });
    } finally {
      await load.stop();
    }
    await cluster.leader();
    await cluster.waitConverged({ timeoutMs: 30_000 });
    for (const m of cluster.live()) await assertAllAcked(m, `${prefix}/remove`, load.acked);
    for (const m of cluster.live()) {
      const list = await members(m);
      assert.deepEqual(list.map((mm) => mm.name).sort(), cluster.live().map((p) => p.name).sort(), `members seen by ${m.name}`);
      assert.ok(!list.some((mm) => mm.id === removed.id));
    }
    const machines = await http('GET', `${added.clientUrl}/v2/machines`);
    assert.ok(!machines.body.includes(victim.clientUrl), 'the removed member is not a machine any more');
  });

  test('adding a member whose peer URL exists answers 409', async () => {
    const via = cluster.live()[0]!;
    const existing = (await members(via))[0]!;
    // membershipChange: the strict reconfiguration check refuses (500) until every peer has been up 5 s.
    assertMembersError(await membershipChange(() => postMembers(via, JSON.stringify({ peerURLs: existing.peerURLs }))), 409, 'membership: peerURL exists');
  });

  test("a peer URL Go's parser takes and node's cannot dial is added as etcd adds it (an unreachable member), and no member falls", async () => {
    const via = cluster.live()[0]!;
    const before = cluster.live().length;
    // Once, applying this membership change threw in every member, and again at every restart.
    const res = await membershipChange(() => postMembers(via, JSON.stringify({ peerURLs: ['http://127.0.0.1:99999'] })));
    assert.equal(res.status, 201, res.body);
    const id = (res.json as MemberJson).id;
    for (const m of cluster.live()) {
      await waitFor(async () => (await members(m)).some((x) => x.id === id), { timeoutMs: 10_000, what: `${m.name} lists the new member` });
      assert.equal(m.exitCode, null, `${m.name} is still running`);
    }
    // Three of four voters are up: writes still commit.
    const key = `${prefix}/after-undiallable`;
    assert.equal((await http('PUT', `${via.clientUrl}/v2/keys${key}`, { form: { value: 'v' } })).status, 201);
    const removal = await membershipChange(() => http('DELETE', `${via.clientUrl}/v2/members/${id}`));
    assert.equal(removal.status, 204, removal.body);
    assert.equal(cluster.live().length, before);
    for (const m of cluster.live()) assert.equal(m.exitCode, null, `${m.name} is still running`);
  });

  test('removing an unknown or malformed id answers 404', async () => {
    const via = cluster.live()[0]!;
    for (const id of ['123456789abcdef', 'not-hex']) {
      const res = await http('DELETE', `${via.clientUrl}/v2/members/${id}`);
      assertMembersError(res, 404, `No such member: ${id}`);
    }
    assertMembersError(await http('GET', `${via.clientUrl}/v2/members/123456789abcdef`), 404, 'Not found');
  });

  test('removing a removed member again answers 410; updating it, etcd\'s bare 500', async () => {
    for (const via of cluster.live()) {
      const res = await http('DELETE', `${via.clientUrl}/v2/members/${removed.id}`);
      assertMembersError(res, 410, `Member permanently removed: ${removed.id}`);
      // An update names no removal: etcd's bare 500.
      const update = await http('PUT', `${via.clientUrl}/v2/members/${removed.id}`, jsonBody({ peerURLs: ['http://127.0.0.1:1'] }));
      assertMembersError(update, 500, 'Internal Server Error');
    }
  });

  test('adding with another content type answers 415; with JSON parameters it is accepted as JSON', async () => {
    const via = cluster.live()[0]!;
    assertMembersError(await postMembers(via, 'peerURLs=http://127.0.0.1:1', 'application/x-www-form-urlencoded'), 415,
      'Bad Content-Type application/x-www-form-urlencoded, accept application/json');
    // A charset parameter is fine: the body reaches validation (and fails there, on purpose).
    assertMembersError(await postMembers(via, '{}', 'application/json; charset=utf-8'), 400, 'no valid URLs given');
  });

  test("adding with bad JSON answers 400 with the message of Go's JSON decoder", async () => {
    const via = cluster.live()[0]!;
    assertMembersError(await postMembers(via, '{bad'), 400, "invalid character 'b' looking for beginning of object key string");
  });

  test('adding with no URLs or a URL without a scheme answers 400', async () => {
    const via = cluster.live()[0]!;
    assertMembersError(await postMembers(via, '{}'), 400, 'no valid URLs given');
    assertMembersError(await postMembers(via, '[]'), 400, 'json: cannot unmarshal array into Go value of type struct { PeerURLs []string "json:\\"peerURLs\\"" }');
    assertMembersError(await postMembers(via, '{"peerURLs":[]}'), 400, 'no valid URLs given');
    assertMembersError(await postMembers(via, '{"peerURLs":["not a url"]}'), 400, 'URL scheme must be http, https, unix, or unixs: not a url');
    assert.equal((await members(via)).length, cluster.live().length, 'no failed request changed the membership');
  });

  test('a peer URL without a port, with a path, or after a JSON value answers 400 and adds nothing (etcd\'s checks)', async () => {
    const via = cluster.live()[0]!;
    assertMembersError(await postMembers(via, '{"peerURLs":["http://127.0.0.1"]}'), 400, 'URL address does not have the form "host:port": http://127.0.0.1');
    assertMembersError(await postMembers(via, '{"peerURLs":["unix://foo"]}'), 400, 'URL address does not have the form "host:port": unix://foo');
    assertMembersError(await postMembers(via, '{"peerURLs":["http://127.0.0.1:1/path"]}'), 400, 'URL must not contain a path: http://127.0.0.1:1/path');
    assertMembersError(await postMembers(via, '{"peerURLs":["http://127.0.0.1:1"]} x'), 400, "invalid character 'x' after top-level value");
    assertMembersError(await postMembers(via, '{"peerURLs":["http://127.0.0.1:1"]}', 'APPLICATION/JSON'), 415, 'Bad Content-Type APPLICATION/JSON, accept application/json');
    assert.equal((await members(via)).length, cluster.live().length, 'no failed request changed the membership');
  });

  test('member ids in paths are parsed as etcd parses them: hex in any case, percent-decoded', async () => {
    const via = cluster.live()[0]!;
    const self = (await members(via))[0]!;
    const update = await http('PUT', `${via.clientUrl}/v2/members/0${self.id.toUpperCase()}`, jsonBody({ peerURLs: self.peerURLs }));
    assert.equal(update.status, 204, update.body);
    assert.equal(update.headers['content-type'], undefined, 'a 204 carries no Content-Type, as etcd\'s');
    assertMembersError(await http('DELETE', `${via.clientUrl}/v2/members/0ABC`), 404, 'No such member: abc');
    assertMembersError(await http('DELETE', `${via.clientUrl}/v2/members/%61bc`), 404, 'No such member: abc');
    // A non-hex id is refused before the body is read.
    assertMembersError(await http('PUT', `${via.clientUrl}/v2/members/zzz`, { body: 'x', headers: { 'content-type': 'text/plain' } }), 404, 'No such member: zzz');
    const leader = await http('GET', `${via.clientUrl}/v2/members/%6Ceader`);
    assert.equal(leader.status, 200, leader.body);
    // A slash after the id stays part of it (etcd): no member is removed or changed, and `leader/` is not found.
    const other = (await members(via)).at(-1)!;
    assertMembersError(await http('DELETE', `${via.clientUrl}/v2/members/${other.id}/`), 404, `No such member: ${other.id}/`);
    assertMembersError(await http('PUT', `${via.clientUrl}/v2/members/${other.id}/`, jsonBody({ peerURLs: other.peerURLs })), 404, `No such member: ${other.id}/`);
    assertMembersError(await http('GET', `${via.clientUrl}/v2/members/leader/`), 404, 'Not found');
    assert.equal((await members(via)).length, cluster.live().length, 'no member was removed');
  });

  test('DELETE or PUT without an id answers a bare 405, as etcd does (no Allow header)', async () => {
    const via = cluster.live()[0]!;
    for (const method of ['DELETE', 'PUT'] as const) {
      const res = await http(method, `${via.clientUrl}/v2/members/`, jsonBody({ peerURLs: ['http://127.0.0.1:1'] }));
      assert.equal(res.status, 405, `${method}: ${res.body}`);
      assert.equal(res.body.trim(), 'Method Not Allowed');
      assert.equal(res.headers.allow, undefined, `${method} has no Allow header`);
      assert.match(String(res.headers['x-etcd-cluster-id']), /^[0-9a-f]+$/, `${method} names the cluster`);
    }
    const patch = await http('PATCH', `${via.clientUrl}/v2/members`);
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.allow, 'GET,POST,DELETE,PUT', 'an unsupported method names the allowed ones');
  });

  test('PUT or DELETE on /v2/members/leader treats "leader" as an id; POST ignores what follows the prefix', async () => {
    const via = cluster.live()[0]!;
    assertMembersError(await http('DELETE', `${via.clientUrl}/v2/members/leader`), 404, 'No such member: leader');
    assertMembersError(await http('PUT', `${via.clientUrl}/v2/members/leader`, jsonBody({ peerURLs: ['http://127.0.0.1:1'] })),
      404, 'No such member: leader');
    // An existing peer URL: the POST reaches the add (409) without changing the membership.
    const existing = (await members(via))[0]!;
    const res = await membershipChange(() => http('POST', `${via.clientUrl}/v2/members/anything`, jsonBody({ peerURLs: existing.peerURLs })));
    assertMembersError(res, 409, 'membership: peerURL exists');
    assert.equal((await members(via)).length, cluster.live().length);
  });

  test('a member whose peer URLs are updated keeps its place until it is restarted at the new ones, then serves from there (as etcd)', async () => {
    const leader = await cluster.leader();
    const moved = cluster.followers(leader)[0]!;
    const id = await cluster.idOf(moved);
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port}`;
    const update = await membershipChange(() => http('PUT', `${leader.clientUrl}/v2/members/${id}`, jsonBody({ peerURLs: [url] })));
    assert.equal(update.status, 204, update.body);
    const k = uniqueKey('peer-url-update');
    for (const m of cluster.live()) {
      const res = await http('PUT', `${m.clientUrl}/v2/keys${k}/${m.name}`, { form: { value: 'before the restart' } });
      assert.equal(res.status, 201, `write through ${m.name} before the restart: ${res.body}`);
    }
    await moved.restartAtPeerUrl(url);
    await cluster.leader({ timeoutMs: 20_000 });
    const res = await http('PUT', `${moved.clientUrl}/v2/keys${k}/after`, { form: { value: 'after the restart' } });
    assert.equal(res.status, 201, res.body);
    for (const m of cluster.live()) {
      const listed = (await members(m)).find((mm) => mm.id === id);
      assert.deepEqual(listed?.peerURLs, [url], `the new peer URL as ${m.name} lists it`);
    }
    await cluster.waitConverged({ timeoutMs: 30_000 });
  });

  test('the leader removed through a follower exits by itself and the other two elect a new leader', async (t) => {
    const leader = await cluster.leader();
    const via = cluster.followers(leader)[0]!;
    const started = Date.now();
    await cluster.removeMember(leader, { via });
    const next = await cluster.leader({ timeoutMs: 20_000 });
    t.diagnostic(`${leader.name} exited with code ${leader.exitCode}; ${next.name} leads ${Date.now() - started} ms after the DELETE`);
    assert.notEqual(next, leader);
    const k = uniqueKey('after-leader-removal');
    for (const m of cluster.live()) {
      const res = await http('PUT', `${m.clientUrl}/v2/keys${k}`, { form: { value: m.name } });
      assert.ok(res.status === 201 || res.status === 200, `write through ${m.name}: ${res.body}`);
    }
    const list = await members(next);
    assert.equal(list.length, 2);
    await cluster.waitConverged({ timeoutMs: 20_000 });
  });
});
