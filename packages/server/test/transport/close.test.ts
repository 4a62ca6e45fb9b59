import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, MessageType } from '@deimos/protocol';
import { app, connectAll, heartbeat, startMember, startProxy, waitFor, writeRandomFile } from './support.js';

/** Counts of the handle kinds a leak would show up as. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (/TCP|Timeout|Immediate|FileHandle|FSReq/.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

test('close() ends streams, snapshot transfers and reconnect timers, leaving no handles or temp files', async () => {
  const baseline = handles();
  const dir = mkdtempSync(join(tmpdir(), 'deimos-close-'));
  const snapDir = mkdtempSync(join(tmpdir(), 'deimos-close-snap-'));
  const file = writeRandomFile(dir, 'checkpoint.db', 8 * 1024 * 1024);
  const released: string[] = [];
  const source = { open: () => ({ path: file, sizeBytes: 8 * 1024 * 1024 }), release: (f: { path: string }) => released.push(f.path) };
  const m1 = await startMember({ id: '1', snapshotSource: source });
  const m2 = await startMember({ id: '2', snapshotDir: snapDir });
  const m3 = await startMember({ id: '3' });
  const members = [m1, m2, m3];
  connectAll(members);
  m1.transport.addPeer('4', ['http://127.0.0.1:1']); // never up: keeps a reconnect timer armed
  const proxy = await startProxy(m2.port, { delayPerChunkMs: 60_000 });
  m1.transport.updatePeer('2', [proxy.url]);
  for (let i = 1; i <= 50; i++) m1.transport.send([app('1', '3', i), heartbeat('1', '4')]);
  await waitFor('traffic', () => m3.received.length === 50);
  m1.transport.send([makeMessage({
    type: MessageType.MsgSnap, from: '1', to: '2', term: 1,
    snapshot: { metadata: { index: 9, term: 1, confState: { voters: ['1', '2', '3'], learners: [] } }, data: new Uint8Array(0) },
  })]);
  await waitFor('snapshot transfer under way', () => readdirSync(snapDir).length === 1);

  await Promise.all(members.map((m) => m.close()));
  await proxy.close();
  assert.deepEqual(readdirSync(snapDir), [], 'the partial snapshot was removed');
  assert.deepEqual(released, [file]);
  assert.deepEqual(m1.snapshotStatuses, [], 'no outcome is reported after close');
  m1.transport.send([app('1', '3', 51)]);
  assert.deepEqual(m1.transport.stats(), []);
  await waitFor('handles released', () => JSON.stringify(handles()) === JSON.stringify(baseline), 2_000)
    .catch(() => assert.deepEqual(handles(), baseline));
  rmSync(dir, { recursive: true, force: true });
  rmSync(snapDir, { recursive: true, force: true });
});
