/**
 * Partitions by SIGSTOP in a 3-node cluster: a paused leader is replaced and, when resumed, steps
 * down and catches up without ever serving a stale linearizable read; with two of three members
 * paused the remaining one refuses writes and linearizable reads within --timeout (HTTP 500,
 * errorCode 300) but still answers serializable reads (and `quorum=false` ones, as etcdctl's), and
 * everything recovers on resume.
 *
 * e2e-lane: beside (mostly waiting: 3 s of CPU in 13 s alone; see scripts/run-tests.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_DEFAULT_ARGS, DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http, type TestResponse } from '../support/http.js';
import { KeysClient, assertKeysError, parseJsonBody } from '../support/keys-client.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

const REQUEST_TIMEOUT_MS = 2_000;
const NEW_LEADER_BOUND_MS = 15_000;

describe('partitions of a 3-node cluster by SIGSTOP', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let oldLeader: DeimosProcess;
  const key = uniqueKey('stale');
  const keys = (m: DeimosProcess) => new KeysClient(m.clientUrl);

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3, args: [...CLUSTER_DEFAULT_ARGS, '--timeout', `${REQUEST_TIMEOUT_MS / 1000}s`] });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('the two others elect a new leader and keep writing while the leader is paused', async (t) => {
    oldLeader = await cluster.leader();
    assert.equal((await keys(oldLeader).set(key, 'old')).status, 201);
    for (const m of cluster.members) assert.equal(parseJsonBody(await keys(m).get(key)).node.value, 'old');

    const pausedAtMs = Date.now();
    cluster.pause(oldLeader);
    const newLeader = await cluster.leader({ timeoutMs: NEW_LEADER_BOUND_MS + 5_000 });
    t.diagnostic(`${newLeader.name} leads ${Date.now() - pausedAtMs} ms after ${oldLeader.name} was paused`);
    assert.notEqual(newLeader, oldLeader);
    assert.ok(Date.now() - pausedAtMs < NEW_LEADER_BOUND_MS);
    for (const m of cluster.live()) {
      const res = await keys(m).set(key, 'new');
      assert.equal(res.status, 200, `write through ${m.name} while the old leader is paused: ${res.body}`);
      for (const r of cluster.live()) assert.equal(parseJsonBody(await keys(r).get(key)).node.value, 'new');
    }
  });

  test('the resumed old leader never answers a linearizable read with the value overwritten while it was paused', async (t) => {
    // Requests queued while it is stopped are the first things it may handle on SIGCONT, racing the
    // peer traffic that tells it about the new term.
    const queued = Array.from({ length: 5 }, () => keys(oldLeader).get(key));
    cluster.resume(oldLeader);
    const right: Array<Promise<TestResponse>> = [];
    for (let i = 0; i < 5; i++) right.push(keys(oldLeader).get(key));
    const answers = await Promise.allSettled([...queued, ...right]);
    const summary: string[] = [];
    for (const a of answers) {
      if (a.status === 'rejected') {
        summary.push(`error ${(a.reason as Error).message}`);
        continue;
      }
      const res = a.value;
      summary.push(`${res.status} ${res.body.trim()}`);
      if (res.status === 200) {
        assert.equal(parseJsonBody(res).node.value, 'new', `a stale linearizable read from the resumed old leader: ${res.body}`);
      } else {
        assertKeysError(res, { status: 500, errorCode: 300 });
      }
    }
    t.diagnostic(`answers right after SIGCONT: ${summary.join(' | ')}`);
  });

  test('the resumed old leader steps down and catches up', async () => {
    const leader = await cluster.leader({ timeoutMs: NEW_LEADER_BOUND_MS });
    const self = await cluster.selfStats(oldLeader);
    if (leader !== oldLeader) assert.equal(self.state, 'StateFollower');
    await cluster.waitConverged({ timeoutMs: 20_000 });
    assert.equal(parseJsonBody(await keys(oldLeader).get(key)).node.value, 'new');
    assert.equal(parseJsonBody(await keys(oldLeader).get(key, { serializable: 'true' })).node.value, 'new');
  });

  test('with two of three paused the remaining member refuses writes and linearizable reads within --timeout', async (t) => {
    const leader = await cluster.leader();
    const alone = leader;
    const k = uniqueKey('minority');
    const written = parseJsonBody(await keys(alone).set(k, 'before'));
    await cluster.waitConverged({ timeoutMs: 10_000 });
    for (const f of cluster.followers(leader)) cluster.pause(f);

    let started = Date.now();
    const write = await keys(alone).set(k, 'after');
    let tookMs = Date.now() - started;
    t.diagnostic(`write failed after ${tookMs} ms: ${write.body.trim()}`);
    assertKeysError(write, { status: 500, errorCode: 300 });
    assert.ok(tookMs < REQUEST_TIMEOUT_MS + 3_000, `the write failed after ${tookMs} ms`);

    started = Date.now();
    const read = await keys(alone).get(k);
    tookMs = Date.now() - started;
    t.diagnostic(`linearizable read failed after ${tookMs} ms: ${read.body.trim()}`);
    assertKeysError(read, { status: 500, errorCode: 300 });
    assert.ok(tookMs < REQUEST_TIMEOUT_MS + 3_000, `the linearizable read failed after ${tookMs} ms`);

    const local = await keys(alone).get(k, { serializable: 'true' });
    assert.equal(local.status, 200, local.body);
    assert.equal(parseJsonBody(local).node.value, 'before', 'the refused write is not applied');
    assert.equal(parseJsonBody(local).node.modifiedIndex, written.node.modifiedIndex);
    // etcdctl v2's `get` sends quorum=false: etcd answers it from the member's store, and so do we.
    const asEtcdctl = await keys(alone).get(k, { quorum: 'false', recursive: 'false', sorted: 'false' });
    assert.equal(asEtcdctl.status, 200, asEtcdctl.body);
    assert.equal(parseJsonBody(asEtcdctl).node.value, 'before');

    // etcd answers an unhealthy member through Go's http.Error: a trailing newline and nosniff.
    const health = await http('GET', `${alone.clientUrl}/health`);
    assert.equal(health.status, 503, health.body);
    assert.equal(health.body, '{"health":"false"}\n');
    assert.equal(health.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(health.headers['x-content-type-options'], 'nosniff');
  });

  test('after resuming both, writes and linearizable reads work again everywhere', async () => {
    for (const m of cluster.members) if (!cluster.live().includes(m)) cluster.resume(m);
    await cluster.leader({ timeoutMs: NEW_LEADER_BOUND_MS });
    const k = uniqueKey('recovered');
    // A client retries until the cluster has settled; then every member must serve the write.
    let written: any;
    await waitFor(async () => {
      const res = await keys(cluster.members[0]!).set(k, 'ok');
      if (res.status !== 201) return false;
      written = parseJsonBody(res);
      return true;
    }, { timeoutMs: 15_000, what: 'a write to succeed after resuming' });
    for (const m of cluster.members) {
      const res = await keys(m).get(k);
      assert.equal(res.status, 200, `${m.name}: ${res.body}`);
      assert.equal(parseJsonBody(res).node.modifiedIndex, written.node.modifiedIndex);
    }
    await cluster.waitConverged({ timeoutMs: 20_000 });
    const health = await http('GET', `${cluster.members[0]!.clientUrl}/health`);
    assert.equal(health.status, 200, health.body);
  });
});

describe('/health of a leader that lost its quorum', { skip: SKIP }, () => {
  let cluster: DeimosCluster;

  before(async () => {
    // A request timeout far past the health check's own bound (one second, as etcd's).
    cluster = await DeimosCluster.start({ size: 3, args: [...CLUSTER_DEFAULT_ARGS, '--timeout', '40s'] });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('answers 503 after its own bound, not after the request timeout', async (t) => {
    const leader = await cluster.leader();
    for (const f of cluster.followers(leader)) cluster.pause(f);
    const started = Date.now();
    const health = await http('GET', `${leader.clientUrl}/health`, { timeoutMs: 60_000 });
    const tookMs = Date.now() - started;
    t.diagnostic(`unhealthy after ${tookMs} ms`);
    assert.equal(health.status, 503, health.body);
    assert.equal(health.body, '{"health":"false"}\n');
    assert.ok(tookMs < 20_000, `/health answered after ${tookMs} ms (the request timeout is 40 s)`);
    for (const f of cluster.followers(leader)) cluster.resume(f);
  });
});
