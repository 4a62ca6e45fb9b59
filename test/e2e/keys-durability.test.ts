/**
 * Durability of the keyspace: a graceful restart and a kill -9 under concurrent write load keep every
 * acknowledged write and the indexes; a second server on the same data directory is refused. The
 * member commits its state database on the writer thread (`--commit-thread on`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { DeimosProcess } from '../support/deimos-process.js';
import { KeysClient, parseJsonBody } from '../support/keys-client.js';
import { IS_EXTERNAL, uniqueKey } from '../support/keys-target.js';
import { freePorts } from '../support/ports.js';
import { http } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

/** The state database's writer thread (off by default on 2 CPUs): its batches must survive kill -9 too. */
const COMMIT_THREAD = ['--commit-thread', 'on'];

const SKIP = IS_EXTERNAL ? 'needs its own deimos process: restarts, kills and data directories' : false;

/** The file's server: the first process, then its successor on the same data directory and ports. */
let first: DeimosProcess | undefined;
let current: DeimosProcess | undefined;

function port(url: string): number {
  return Number(new URL(url).port);
}

describe('durability', { skip: SKIP }, () => {
  before(async () => {
    first = await DeimosProcess.start({ args: COMMIT_THREAD });
    current = first;
  });

  after(async () => {
    if (current && current !== first) await current.destroy();
    await first?.destroy();
  });

  /** Starts a new process on the data directory and ports of the first one. */
  async function successor(): Promise<DeimosProcess> {
    const p = first!;
    return DeimosProcess.start({ name: p.name, dataDir: p.dataDir, clientPort: port(p.clientUrl), peerPort: port(p.peerUrl), args: COMMIT_THREAD });
  }

  test('a restart recovers keys, directories, TTLs and indexes', async () => {
    const keys = new KeysClient(current!.clientUrl);
    const top = uniqueKey('restart');
    const file = parseJsonBody(await keys.set(`${top}/file`, 'v1')).node;
    const updated = parseJsonBody(await keys.set(`${top}/file`, 'v2', { prevExist: 'true' })).node;
    const ttl = parseJsonBody(await keys.set(`${top}/ttl`, 't', { ttl: '600' })).node;
    await keys.put(`${top}/empty`, { dir: 'true' });
    await keys.set(`${top}/gone`, 'x');
    await keys.delete(`${top}/gone`);
    const before = parseJsonBody(await keys.get(top, { recursive: 'true', sorted: 'true' }));
    const index = await keys.index();

    await current!.restart();

    const after = parseJsonBody(await keys.get(top, { recursive: 'true', sorted: 'true' }));
    const strip = (n: any): any => ({ ...n, ttl: undefined, nodes: n.nodes?.map(strip) });
    assert.deepEqual(strip(after.node), strip(before.node));
    // As etcd's: the store index survives, and the restart's publication of the member (which
    // every start makes through the log) takes one index more.
    assert.equal(await keys.index(), index + 1, 'the store index survives, plus the restart\'s publication');
    const got = parseJsonBody(await keys.get(`${top}/file`)).node;
    assert.deepEqual([got.value, got.createdIndex, got.modifiedIndex], ['v2', file.createdIndex, updated.modifiedIndex]);
    const ttlNode = parseJsonBody(await keys.get(`${top}/ttl`)).node;
    assert.equal(ttlNode.expiration, ttl.expiration, 'the expiration is kept exactly');
    const next = parseJsonBody(await keys.set(`${top}/next`, 'n')).node;
    assert.equal(next.modifiedIndex, index + 2, 'the next write continues the index');
  });

  test('a key whose TTL ran out while the server was down expires after the restart, with an expire event', async () => {
    const keys = new KeysClient(current!.clientUrl);
    const key = uniqueKey('expired-while-down');
    const node = parseJsonBody(await keys.set(key, 'v', { ttl: '1' })).node;
    await current!.stop();
    while (Date.now() < Date.parse(node.expiration) + 300) await new Promise((r) => setTimeout(r, 50));
    await current!.restart();
    const deadline = Date.now() + 3000;
    while ((await keys.get(key)).status !== 404) {
      assert.ok(Date.now() < deadline, 'the key expires within 3 s of the restart');
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await keys.get(key, { wait: 'true', waitIndex: String(node.modifiedIndex + 1) });
    const event = parseJsonBody(res);
    assert.equal(event.action, 'expire');
    assert.equal(event.prevNode.value, 'v');
  });

  test('kill -9 during a concurrent write load loses no acknowledged write', async () => {
    const keys = new KeysClient(current!.clientUrl);
    const top = uniqueKey('crash');
    const acknowledged = new Map<string, { value: string; index: number }>();
    let stop = false;
    let errors = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `${top}/w${w}/k${i % 40}`;
        const value = `w${w}-i${i}`;
        try {
          const res = await keys.set(key, value);
          if (res.status === 200 || res.status === 201) acknowledged.set(key, { value, index: parseJsonBody(res).node.modifiedIndex });
          else if (!stop) assert.fail(`write failed before the kill: ${res.status} ${res.body}`);
        } catch {
          errors += 1;
          return; // the server is gone
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline || acknowledged.size < 50) {
      await new Promise((r) => setTimeout(r, 50));
      if (Date.now() > deadline + 10_000) break;
    }
    await current!.kill();
    stop = true;
    await Promise.all(writers);
    assert.ok(acknowledged.size >= 50, `only ${acknowledged.size} keys were acknowledged before the kill`);
    const maxIndex = Math.max(...[...acknowledged.values()].map((a) => a.index));

    current = await successor();
    const after = new KeysClient(current.clientUrl);
    assert.ok(await after.index() >= maxIndex, 'the store index covers every acknowledged write');
    const missing: string[] = [];
    for (const [key, { value, index }] of acknowledged) {
      const res = await after.get(key);
      if (res.status !== 200) {
        missing.push(`${key} (${res.status})`);
        continue;
      }
      const node = parseJsonBody(res).node;
      // A later write to the same key may have been applied without its answer reaching us.
      if (node.modifiedIndex === index) assert.equal(node.value, value, key);
      else assert.ok(node.modifiedIndex > index, `${key} went back from index ${index} to ${node.modifiedIndex}`);
    }
    assert.deepEqual(missing, [], `acknowledged writes lost (${errors} writers saw the kill)`);
    const next = await after.set(`${top}/after`, 'x');
    assert.equal(next.status, 201, next.body);
  });

  test('a second server on the same data directory is refused while the first one runs', async () => {
    const running = current!;
    const keys = new KeysClient(running.clientUrl);
    const key = uniqueKey('locked');
    await keys.set(key, 'v');
    const [clientPort, peerPort] = await freePorts(2);
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const result = await DeimosProcess.runOnce([
      '--name', running.name,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      // Same member and cluster as the running server; only the listeners differ.
      '--listen-peer-urls', peerUrl, '--advertise-peer-urls', running.peerUrl,
      '--bootstrap-config', `${running.name}=${running.peerUrl}`,
      '--data-dir', running.dataDir,
    ], {}, 15_000);
    assert.notEqual(result.code, 0, 'the second server exits with an error');
    assert.notEqual(result.code, null);
    assert.match(result.stderr, /lock|in use|already|another/i, `a clear message: ${result.stderr}`);
    assert.ok(result.stderr.includes(running.dataDir) || /data[- ]dir/i.test(result.stderr), `the message names the data directory: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /EADDRINUSE|address already in use/i, 'refused for the data directory, not for a port');
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(running.exitCode, null, 'the first server is still running');
    assert.equal(parseJsonBody(await keys.get(key)).node.value, 'v', 'the first server keeps serving');
    assert.equal((await keys.set(key, 'w')).status, 200, 'and keeps accepting writes');
  });
});

describe('a stop asked for (SIGTERM)', { skip: SKIP }, () => {
  let slow: DeimosProcess | undefined;

  after(async () => {
    await slow?.destroy();
  });

  test('a write waiting for its fsync when SIGTERM comes is answered as applied (etcd lets requests in flight finish), and kept; meanwhile new connections are refused', async () => {
    // Each WAL sync takes 1.5 s: the write is sure to be waiting when the signal comes.
    slow = await DeimosProcess.start({ env: { DEIMOS_TEST_FSYNC_DELAY_MS: '1500' } });
    const keys = new KeysClient(slow.clientUrl);
    const key = uniqueKey('in-flight-at-stop');
    const write = keys.set(key, 'kept');
    await waitFor(async () => /^etcd_server_proposals_pending 1$/m.test((await http('GET', `${slow!.clientUrl}/metrics`)).body), { timeoutMs: 10_000, what: 'the write waiting for its sync' });
    const stopped = slow.stop();
    await waitFor(() => slow!.output.includes('shutting down'), { timeoutMs: 10_000, what: 'the stop to begin' });
    // While the waiting write finishes, new connections are refused (client workers learn of the
    // stop within a status push).
    await waitFor(async () => {
      const late = connect(Number(new URL(slow!.clientUrl).port), '127.0.0.1');
      const outcome = await new Promise<string | undefined>((resolve) => {
        late.once('connect', () => resolve('connected'));
        late.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
      });
      late.destroy();
      return outcome === 'ECONNREFUSED';
    }, { timeoutMs: 5_000, intervalMs: 20, what: 'new connections to be refused' });
    const answer = await write;
    assert.equal(answer.status, 201, answer.body);
    await stopped;
    const restarted = await DeimosProcess.start({ name: slow.name, dataDir: slow.dataDir, clientPort: port(slow.clientUrl), peerPort: port(slow.peerUrl) });
    slow = restarted;
    assert.equal(parseJsonBody(await new KeysClient(restarted.clientUrl).get(key)).node.value, 'kept');
  });
});
