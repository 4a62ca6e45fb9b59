/**
 * A full disk: a member whose data directory lies on a small tmpfs keeps running when the disk
 * fills, refuses writes with an etcd error (the NOSPACE alarm) while serving reads, recovers by
 * itself once space returns, and loses no acknowledged write, neither then nor after a restart.
 * Needs root to mount the tmpfs (CI runs as root). The member commits its state database on the
 * writer thread (`--commit-thread on`, off by default on 2 CPUs), whose SQLITE_FULL path this is;
 * the chaos suite's disk faults run members with the default.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';
import { assertKeysError, KeysClient, parseJsonBody } from '../support/keys-client.js';
import { IS_EXTERNAL } from '../support/keys-target.js';
import { SmallDisk, smallDiskUnavailable } from '../support/small-disk.js';
import { waitFor } from '../support/wait-for.js';

const SKIP = IS_EXTERNAL ? 'needs its own deimos process on its own small disk' : smallDiskUnavailable() ?? false;
const DISK_BYTES = 8 * 1024 * 1024;
/** Values big enough that the WAL's preallocated headroom (1 MiB) runs out within a few hundred writes. */
const VALUE = 'v'.repeat(4096);
/** The cause etcd gives for its NOSPACE alarm; Deimos answers writes with it while the disk is full. */
const NO_SPACE_CAUSE = 'etcdserver: mvcc: database space exceeded';
/** A default (linearizable) read, a quorum read and a local read. */
const READ_QUERIES: ReadonlyArray<Record<string, string> | undefined> = [undefined, { quorum: 'true' }, { serializable: 'true' }];

async function alarmGauge(server: DeimosProcess): Promise<number> {
  const res = await http('GET', `${server.clientUrl}/metrics`);
  const line = res.body.split('\n').find((l) => l.startsWith('deimos_disk_space_alarm '));
  assert.ok(line, 'the metrics show deimos_disk_space_alarm');
  return Number(line.split(' ')[1]);
}

describe('a full disk', { skip: SKIP }, () => {
  let disk: SmallDisk | undefined;
  let server: DeimosProcess | undefined;

  before(async () => {
    disk = SmallDisk.mount(DISK_BYTES);
    server = await DeimosProcess.start({ dataDir: join(disk.dir, 'data'), args: ['--commit-thread', 'on'] });
  });

  after(async () => {
    await server?.destroy();
    disk?.unmount();
  });

  test('refuses writes with the NOSPACE error, serves reads, recovers by itself and keeps every acknowledged write', async () => {
    const keys = new KeysClient(server!.clientUrl);
    const acknowledged = new Map<string, string>();
    const write = async (key: string, value: string) => {
      const res = await keys.set(key, value);
      if (res.status === 200 || res.status === 201) acknowledged.set(key, value);
      return res;
    };
    for (let i = 0; i < 20; i++) assert.equal((await write(`/before/k${i}`, `${VALUE}-${i}`)).status, 201);

    disk!.fill();
    let refused;
    for (let i = 0; i < 3000 && refused === undefined; i++) {
      const res = await write(`/full/k${i}`, `${VALUE}-${i}`);
      if (res.status !== 200 && res.status !== 201) refused = res;
    }
    assert.ok(refused, 'a write is refused once the disk is full');
    assert.equal(server!.exitCode, null, 'the member is still running');
    assertKeysError(refused, { status: 500, errorCode: 300, message: 'Raft Internal Error', cause: NO_SPACE_CAUSE, index: 0 });
    assert.equal(await alarmGauge(server!), 1, 'the alarm shows in the metrics');
    const health = await http('GET', `${server!.clientUrl}/health`);
    assert.equal(health.status, 503, 'unhealthy while the alarm is raised, as etcd');

    // Reads go on, linearizable and local, and see every acknowledged write.
    for (const [key, value] of [...acknowledged].slice(-10)) {
      for (const query of READ_QUERIES) {
        const res = await keys.get(key, query);
        assert.equal(res.status, 200, `GET ${key} ${JSON.stringify(query)} while full: ${res.body.slice(0, 200)}`);
        assert.equal(parseJsonBody(res).node.value, value);
      }
    }
    const stillRefused = await keys.set('/full/again', 'x');
    assert.equal(parseJsonBody(stillRefused).cause, NO_SPACE_CAUSE, 'writes stay refused while the disk is full');

    disk!.free();
    await waitFor(async () => (await write('/after/first', 'back')).status === 201, { timeoutMs: 20_000, what: 'a write to succeed once space returned' });
    assert.equal(await alarmGauge(server!), 0, 'the alarm is cleared');
    assert.equal((await http('GET', `${server!.clientUrl}/health`)).status, 200, 'healthy again');
    for (let i = 0; i < 20; i++) assert.equal((await write(`/after/k${i}`, `${VALUE}-${i}`)).status, 201);

    const assertAllPresent = async (when: string) => {
      for (const [key, value] of acknowledged) {
        const res = await keys.get(key);
        assert.equal(res.status, 200, `${key} acknowledged, missing ${when}`);
        assert.equal(parseJsonBody(res).node.value, value, `${key} ${when}`);
      }
    };
    await assertAllPresent('after space returned');
    await server!.restart();
    await assertAllPresent('after a restart');
    assert.ok(acknowledged.size > 40, `writes were acknowledged (${acknowledged.size})`);
  });
});
