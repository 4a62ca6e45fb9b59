/**
 * Big reads and consensus: concurrent recursive GETs of a directory of tens of MB on the leader of a
 * 3-member cluster, some of them from clients that never read their answer, while writes go on. The
 * leader keeps its term (its heartbeats were never held up long enough for an election), and every
 * answer that was read is whole, valid JSON, and shows the directory exactly as it was at the index
 * in its X-Etcd-Index header.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { DeimosCluster, runConcurrently, withDeadline } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';

/** 6,000 values of 4 KiB: a directory of about 25 MB as a recursive GET renders it. */
const KEYS = 6000;
const VALUE = 'v'.repeat(4096);
const DIR = '/big';

let cluster: DeimosCluster;

before(async () => {
  cluster = await DeimosCluster.start();
});

after(async () => {
  await cluster?.destroy();
});

/** The leader's raft term, as its X-Raft-Term header says. */
async function termOf(m: DeimosProcess): Promise<number> {
  const res = await http('GET', `${m.clientUrl}/v2/keys/?serializable=true`);
  assert.equal(res.status, 200);
  return Number(res.headers['x-raft-term']);
}

/** A client that asks for `path` and never reads the answer (its socket is paused). */
function stalledReader(m: DeimosProcess, path: string): Promise<Socket> {
  const url = new URL(m.clientUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET /v2/keys${path} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

test('concurrent recursive GETs of a 25 MB directory, some never read, do not cost the leader its term and answer consistent snapshots', async () => {
  const leader = await cluster.leader();
  await runConcurrently(KEYS, 32, async (i) => {
    const res = await http('PUT', `${leader.clientUrl}/v2/keys${DIR}/k${String(i).padStart(5, '0')}`, { form: { value: VALUE }, timeoutMs: 30_000 });
    assert.equal(res.status, 201, res.body);
  });
  const term = await termOf(leader);

  const stalled = await Promise.all([0, 1, 2].map(() => stalledReader(leader, `${DIR}?recursive=true&sorted=true`)));
  // Writes into the directory while the answers are being rendered: each answer must show exactly
  // the ones at or below its own index.
  const extras: { key: string; index: number }[] = [];
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const key = `${DIR}/extra${i}`;
      const res = await http('PUT', `${leader.clientUrl}/v2/keys${key}`, { form: { value: `x${i}` }, timeoutMs: 30_000 });
      assert.equal(res.status, 201, res.body);
      extras.push({ key, index: Number(res.json.node.modifiedIndex) });
    }
  })();
  try {
    // Half through the client loop, half through node:http (a Connection value the loop leaves to it).
    const answers = await withDeadline(Promise.all(Array.from({ length: 6 }, (_, i) =>
      http('GET', `${leader.clientUrl}/v2/keys${DIR}?recursive=true${i % 2 === 0 ? '&sorted=true' : ''}`, {
        timeoutMs: 120_000, headers: i < 3 ? {} : { Connection: 'keep-alive, x-via-node-http' },
      }))), 180_000, 'the big reads');
    for (const res of answers) {
      assert.equal(res.status, 200);
      assert.ok(res.json !== undefined, 'the answer is whole, valid JSON');
      const index = Number(res.headers['x-etcd-index']);
      const keys = (res.json.node.nodes as { key: string; value: string; modifiedIndex: number }[]).map((n) => {
        assert.ok(n.modifiedIndex <= index, `${n.key} at ${n.modifiedIndex} is newer than the answer's index ${index}`);
        return n.key;
      });
      const expected = KEYS + extras.filter((e) => e.index <= index).length;
      assert.equal(keys.length, expected, `the answer at index ${index} lists every key written up to it and no other`);
      const first = res.json.node.nodes.find((n: { key: string }) => n.key === `${DIR}/k00000`);
      assert.ok(first?.value === VALUE, 'values are whole');
    }
    const sorted = answers[0]!.json.node.nodes.map((n: { key: string }) => n.key);
    assert.deepEqual(sorted, [...sorted].sort());
  } finally {
    writing = false;
    await writer;
    for (const s of stalled) s.destroy();
  }

  assert.equal(await cluster.leader(), leader, 'the leader is still the leader');
  assert.equal(await termOf(leader), term, 'no election happened');
});
