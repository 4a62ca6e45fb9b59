/**
 * A follower killed in the middle of a snapshot install: its state database already replaced by
 * the leader's copy, its WAL not yet told of the snapshot. That state is built here as a crash
 * would leave it (the leader's database copied over a killed follower's, marked as a restored
 * snapshot the way the install marks it), since no signal lands in that window reliably. The
 * follower must start on it (it refused every start before, with "the log lost entries"), catch
 * up from the leader and converge to the same keyspace hash.
 *
 * e2e-lane: alone (starts a 3-member cluster).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_DEFAULT_ARGS, DeimosCluster, runConcurrently } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos processes' : false;

// better-sqlite3 is the server's dependency: load it from there.
const Database = createRequire(new URL('../../../packages/server/package.json', import.meta.url))('better-sqlite3') as typeof import('better-sqlite3');

describe('a follower whose snapshot install was cut short before its WAL recorded it', { skip: SKIP }, () => {
  let cluster: DeimosCluster;
  const catchUp = process.env.DEIMOS_TEST_CATCH_UP_ENTRIES;
  const scratch = mkdtempSync(join(tmpdir(), 'deimos-cut-short-'));
  const prefix = uniqueKey('cut-short');

  before(async () => {
    process.env.DEIMOS_TEST_CATCH_UP_ENTRIES = '5'; // inherited by the members: the leader's log keeps little
    cluster = await DeimosCluster.start({ size: 3, args: [...CLUSTER_DEFAULT_ARGS, '--snapshot-count', '50'] });
  });

  after(async () => {
    await cluster?.destroy();
    if (catchUp === undefined) delete process.env.DEIMOS_TEST_CATCH_UP_ENTRIES;
    else process.env.DEIMOS_TEST_CATCH_UP_ENTRIES = catchUp;
    rmSync(scratch, { recursive: true, force: true });
  });

  test('starts on the installed state, catches up from the leader and converges', async () => {
    const leader = await cluster.leader();
    const follower: DeimosProcess = cluster.followers(leader)[0]!;
    const write = (via: DeimosProcess, i: number) => http('PUT', `${via.clientUrl}/v2/keys${prefix}/k${i}`, { form: { value: `v${i}` }, timeoutMs: 20_000 });
    for (let i = 0; i < 10; i++) assert.equal((await write(leader, i)).status, 201);
    await cluster.kill(follower);
    await runConcurrently(300, 8, async (i) => {
      const res = await write(leader, 10 + i);
      assert.ok(res.status === 201 || res.status === 200, res.body);
    });

    // What an install leaves when cut short after the database swap: the leader's state, marked
    // as restored from a snapshot at its applied index, with the follower's WAL as it was.
    const copy = join(scratch, 'leader-copy.db');
    const live = new Database(join(leader.dataDir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      await live.backup(copy);
    } finally {
      live.close();
    }
    const db = new Database(copy);
    const applied = (db.prepare("SELECT value FROM meta WHERE name = 'applied_index'").get() as { value: number }).value;
    const put = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
    put.run('restored_snapshot_index', applied);
    put.run('restored_applied_index', applied);
    db.close();
    for (const suffix of ['-wal', '-shm']) rmSync(join(follower.dataDir, `state.db${suffix}`), { force: true });
    copyFileSync(copy, join(follower.dataDir, 'state.db'));

    const mark = follower.output.length;
    await cluster.restart(follower);
    assert.match(follower.output.slice(mark), /the last snapshot install stopped before the WAL recorded it/);
    // Writes after the restart reach it too.
    for (let i = 0; i < 20; i++) assert.equal((await write(leader, 400 + i)).status, 201);
    const leaderHash = await cluster.hash(leader);
    await waitFor(async () => {
      const h = await cluster.hash(follower);
      return h.hash === leaderHash.hash && h.appliedIndex === leaderHash.appliedIndex;
    }, { timeoutMs: 60_000, what: 'the follower converges to the leader\'s keyspace' });
    const read = await http('GET', `${follower.clientUrl}/v2/keys${prefix}/k419?serializable=true`);
    assert.equal(JSON.parse(read.body).node.value, 'v419');
  });
});
