/**
 * The strict reconfiguration check on real 3-member clusters: membership changes that could leave
 * the cluster without a quorum of running members are refused as etcd 3.4 refuses them (500
 * `{"message":"Internal Server Error"}`), the cluster keeps its leader, and
 * `--strict-reconfig-check=false` lets them through.
 *
 * e2e-lane: beside (mostly waiting: 4 s of CPU in 9 s alone; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeimosCluster, membershipChange } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse } from '../support/http.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

function postMember(via: DeimosProcess, peerUrl: string): Promise<TestResponse> {
  return http('POST', `${via.clientUrl}/v2/members`, {
    body: JSON.stringify({ peerURLs: [peerUrl] }), headers: { 'Content-Type': 'application/json' }, timeoutMs: 15_000,
  });
}

function assertRefused(res: TestResponse, what: string): void {
  assert.equal(res.status, 500, `${what}: ${res.status} ${res.body}`);
  assert.deepEqual(res.json, { message: 'Internal Server Error' }, what);
}

async function memberIds(via: DeimosProcess): Promise<string[]> {
  const res = await http('GET', `${via.clientUrl}/v2/members`);
  assert.equal(res.status, 200, res.body);
  return (res.json.members as Array<{ id: string }>).map((m) => m.id);
}

async function activePeers(m: DeimosProcess): Promise<number> {
  const res = await http('GET', `${m.clientUrl}/metrics`);
  return Number(/^deimos_peers_active (\d+)$/m.exec(res.body)?.[1] ?? -1);
}

/** Ports that nothing listens on: peer URLs of members that will never start. */
async function unreachablePeerUrls(count: number): Promise<string[]> {
  return (await freePorts(count)).map((p) => `http://127.0.0.1:${p}`);
}

async function assertWritable(via: DeimosProcess, key: string): Promise<void> {
  const res = await http('PUT', `${via.clientUrl}/v2/keys/${key}`, { body: 'value=ok', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, timeoutMs: 15_000 });
  assert.equal(res.status, 201, `write after the refused changes: ${res.body}`);
}

describe('strict reconfiguration check', { skip: SKIP }, () => {
  let cluster: DeimosCluster;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3 });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('three anonymous POSTs of unreachable peers add at most one; the cluster keeps its quorum and the bogus member can be removed', async () => {
    const via = cluster.live()[0]!;
    const [u1, u2, u3] = await unreachablePeerUrls(3);
    // The first is safe (4 voters, 3 running) once every peer has been connected for 5 s.
    const first = await membershipChange(() => postMember(via, u1!));
    assert.equal(first.status, 201, first.body);
    const bogus = String(first.json.id);
    assertRefused(await postMember(via, u2!), 'a second unstarted member');
    assertRefused(await postMember(cluster.live()[1]!, u3!), 'a third, through another member');
    assert.equal((await memberIds(via)).length, 4);
    await assertWritable(via, 'reconfig-after-bogus');
    // A member that never connected is not part of the active quorum: removing it is allowed.
    const removed = await http('DELETE', `${via.clientUrl}/v2/members/${bogus}`, { timeoutMs: 15_000 });
    assert.equal(removed.status, 204, removed.body);
    assert.deepEqual((await memberIds(via)).length, 3);
  });

  test('with one of three members down, adding one or removing a live one is refused; removing the dead one is allowed', async () => {
    // c is a follower: a dead leader would cost an election, and writes sent meanwhile time out.
    const a = (await cluster.leader())!;
    const [b, c] = cluster.followers(a);
    await cluster.kill(c!);
    const [u] = await unreachablePeerUrls(1);
    // The survivors see c gone once its keepalives stop (3 s of silence).
    await waitFor(async () => (await activePeers(a!)) === 1 && (await activePeers(b!)) === 1, { timeoutMs: 20_000, what: 'a and b to see c down' });
    assertRefused(await postMember(a!, u!), 'add with a member down');
    const bId = await cluster.idOf(b!);
    assertRefused(await http('DELETE', `${a!.clientUrl}/v2/members/${bId}`, { timeoutMs: 15_000 }), 'remove a live member with another down');
    assert.equal((await memberIds(a!)).length, 3);
    await assertWritable(a, 'reconfig-one-down');
    const cId = await cluster.idOf(c!);
    const res = await http('DELETE', `${a!.clientUrl}/v2/members/${cId}`, { timeoutMs: 15_000 });
    assert.equal(res.status, 204, res.body);
  });

  test('with no quorum left (the other of two members down), an add is refused as etcd refuses it, without waiting for a leader', async () => {
    const a = (await cluster.leader())!;
    const [b] = cluster.followers(a);
    await cluster.kill(b!);
    const [u] = await unreachablePeerUrls(1);
    await waitFor(async () => (await activePeers(a)) === 0, { timeoutMs: 20_000, what: 'a to see b down' });
    // Not after a read round that cannot end: that gave `membership change failed: request timed out`.
    assertRefused(await postMember(a, u!), 'add with no quorum');
    assert.equal((await memberIds(a)).length, 2);
  });
});

describe('--strict-reconfig-check=false', { skip: SKIP }, () => {
  let cluster: DeimosCluster;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3, args: ['--strict-reconfig-check=false'] });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('lets changes through that the check would refuse', async () => {
    const via = cluster.live()[0]!;
    const [u1, u2] = await unreachablePeerUrls(2);
    for (const u of [u1!, u2!]) {
      const res = await postMember(via, u);
      assert.equal(res.status, 201, `${u}: ${res.body}`);
    }
    assert.equal((await memberIds(via)).length, 5);
  });
});
