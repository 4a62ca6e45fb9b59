/**
 * Snapshots in a 3-node cluster with --snapshot-count 1000: a follower killed during 20,000 writes
 * comes back far behind the leader's in-memory log and catches up through a snapshot transfer, to
 * the same keyspace hash; the WAL stays a few segments.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_DEFAULT_ARGS, DeimosCluster, runConcurrently } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

const WRITES = 20_000;
const CONCURRENCY = 32;
const SNAPSHOT_COUNT = 1_000;

/** Occurrences of `text` in `output`. */
function count(output: string, text: string): number {
  return output.split(text).length - 1;
}

describe('a follower that missed 20,000 writes catches up through a snapshot', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  let leader: DeimosProcess;
  let follower: DeimosProcess;
  const prefix = uniqueKey('snapshot');
  const keyOf = (i: number) => `${prefix}/d${i % 100}/k${i}`;

  before(async () => {
    cluster = await DeimosCluster.start({ size: 3, args: [...CLUSTER_DEFAULT_ARGS, '--snapshot-count', String(SNAPSHOT_COUNT)] });
  });

  after(async () => {
    await cluster?.destroy();
  });

  test('the two remaining members acknowledge 20,000 writes while a follower is killed', async (t) => {
    leader = await cluster.leader();
    follower = cluster.followers(leader)[0]!;
    await cluster.kill(follower);
    const writers = cluster.live();
    const started = Date.now();
    const failures: string[] = [];
    let retries = 0;
    await runConcurrently(WRITES, CONCURRENCY, async (i) => {
      // Like any client, retry a write refused during a leader change on this loaded machine (a set is idempotent).
      for (let attempt = 0; ; attempt++) {
        const via = writers[(i + attempt) % writers.length]!;
        let outcome: string;
        try {
          const res = await http('PUT', `${via.clientUrl}/v2/keys${keyOf(i)}`, { form: { value: `v${i}` }, timeoutMs: 30_000 });
          if (res.status === 201 || res.status === 200) return;
          outcome = `${res.status} ${res.body.trim()}`;
        } catch (err) {
          outcome = (err as Error).message;
        }
        if (attempt === 4) {
          failures.push(`${keyOf(i)} via ${via.name}: ${outcome}`);
          return;
        }
        retries += 1;
      }
    });
    const tookMs = Date.now() - started;
    t.diagnostic(`${WRITES} writes in ${tookMs} ms (${Math.round(WRITES / (tookMs / 1000))}/s), ${retries} retried`);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} writes failed five times`);
    assert.ok(count(leader.output, 'snapshot taken') >= Math.floor(WRITES / SNAPSHOT_COUNT) - 2,
      `the leader took a snapshot every ${SNAPSHOT_COUNT} entries:\n${leader.output.slice(-3_000)}`);
  });

  test('the restarted follower installs a snapshot from the leader and converges to the same hash', async (t) => {
    const followerId = await cluster.idOf(follower);
    const followerMark = follower.output.length;
    const leaderMark = leader.output.length;
    const started = Date.now();
    await cluster.restart(follower);
    const converged = await cluster.waitConverged({ members: cluster.members, timeoutMs: 60_000 });
    t.diagnostic(`caught up and converged ${Date.now() - started} ms after the restart (store index ${converged.storeIndex})`);
    const leaderNow = await cluster.leader();
    const sender = leaderNow === leader ? leader.output.slice(leaderMark) : leaderNow.output;
    assert.match(sender, new RegExp(`sent snapshot peer=${followerId}`), `the leader sent the follower a snapshot:\n${sender.slice(-3_000)}`);
    assert.match(follower.output.slice(followerMark), /received snapshot/, `the follower received a snapshot:\n${follower.output.slice(followerMark).slice(-3_000)}`);
    // Its state was read while raft ran on, so the install only took the file and the tree.
    assert.match(follower.output.slice(followerMark), /installed snapshot .*preloaded=true/, `the follower installed the state it had read:\n${follower.output.slice(followerMark).slice(-3_000)}`);
    // The follower's own data, read locally: a sample of keys, the first and the last.
    for (const i of [0, 1, 999, 5_000, 12_345, WRITES - 1]) {
      const res = await http('GET', `${follower.clientUrl}/v2/keys${keyOf(i)}?serializable=true`);
      assert.equal(res.status, 200, `${keyOf(i)} on the follower: ${res.body}`);
      assert.equal(res.json.node.value, `v${i}`);
    }
    const dir = await http('GET', `${follower.clientUrl}/v2/keys${prefix}/d7?serializable=true`);
    assert.equal(dir.json.node.nodes.length, WRITES / 100, 'a whole directory is there on the follower');
  });

  test("the members' WAL directories stay a few segment files after the load", async (t) => {
    for (const m of cluster.members) {
      const walDir = join(m.dataDir, 'wal');
      const files = readdirSync(walDir).filter((f) => f.endsWith('.wal'));
      const bytes = files.reduce((sum, f) => sum + statSync(join(walDir, f)).size, 0);
      t.diagnostic(`${m.name}${m === leader ? ' (leader)' : ''}: ${files.length} WAL segments, ${bytes} bytes`);
      assert.ok(files.length <= 3, `${m.name} has ${files.length} WAL segments: ${files.join(', ')}`);
    }
  });
});
