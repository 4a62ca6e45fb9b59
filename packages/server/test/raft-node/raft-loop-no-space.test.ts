/**
 * The raft loop on a full disk: a Ready whose WAL save finds no room is held (nothing of it or
 * after it is applied or acknowledged, and the loop keeps running), and retryHeld() resumes
 * with that same Ready once space returns, so the log stays contiguous and nothing is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8, encodeUtf8, EntryType, MessageType, makeMessage, type Entry, type HardState } from '@deimos/protocol';
import { MemoryStorage, RawNode } from '@deimos/raft';
import { RaftLoop } from '../../src/raft-node/raft-loop.js';
import { seededRng } from '../../src/util/seeded-rng.js';
import { WalNoSpaceError } from '../../src/wal/index.js';

/** Polls `check` on the event loop until it holds (no fixed sleeps). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A one-member loop over a log whose disk is full while `full` is set. */
function harness() {
  const storage = new MemoryStorage();
  storage.bootstrap({ voters: ['1'], learners: [] });
  const node = new RawNode({ id: '1', electionTicks: 10, heartbeatTicks: 1, storage, rng: seededRng(7) });
  const saved: Entry[] = [];
  const applied: string[] = [];
  const reports: Error[] = [];
  const state = { full: false };
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const loop = new RaftLoop({
    node,
    log: {
      save(_hs: HardState | undefined, entries: Entry[]) {
        if (state.full) throw new WalNoSpaceError('/wal', enospc);
        if (saved.length > 0 && entries.length > 0) assert.ok(entries[0]!.index <= saved.at(-1)!.index + 1, 'the log stays contiguous');
        saved.push(...entries);
      },
      syncAsync: (done) => setImmediate(done),
      saveSnapshot() {},
    },
    mirror: storage,
    stateMachine: {
      applyEntries: (entries) => {
        for (const e of entries) if (e.type === EntryType.Normal && e.data.length > 0) applied.push(decodeUtf8(e.data));
      },
      restoreSnapshot() {},
    },
    sender: { send() {} },
    tickMs: 10,
    appliedIndex: 0,
    onNoSpace: (err) => reports.push(err),
  });
  return { loop, saved, applied, reports, state };
}

test('a Ready that finds no disk space is held, nothing after it is applied, and retryHeld() resumes with it once space returns', async (t) => {
  const h = harness();
  t.after(() => h.loop.stop());
  h.loop.start();
  h.loop.withNode((n) => n.campaign());
  await until(() => h.loop.isLeader, 'leadership');
  h.loop.withNode((n) => n.propose(encodeUtf8('a')));
  await until(() => h.applied.includes('a'), 'the first write to apply');

  h.state.full = true;
  h.loop.withNode((n) => n.propose(encodeUtf8('b')));
  await until(() => h.reports.length > 0, 'the full disk to be reported');
  assert.ok(h.reports[0] instanceof WalNoSpaceError);
  assert.ok(h.loop.holdingReady, 'the Ready is held');
  h.loop.withNode((n) => n.propose(encodeUtf8('c')));
  // Let the loop run many passes: with the Ready held, nothing new is saved or applied.
  const savedBefore = h.saved.length;
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.applied, ['a'], 'nothing is applied while the Ready is held');
  assert.equal(h.saved.length, savedBefore, 'no later Ready is saved past the held one');
  assert.equal(h.loop.retryHeld(), false, 'still no room');

  h.state.full = false;
  assert.equal(h.loop.retryHeld(), true, 'the held Ready is saved');
  assert.equal(h.loop.holdingReady, false);
  await until(() => h.applied.length === 3, 'the held and later writes to apply');
  assert.deepEqual(h.applied, ['a', 'b', 'c'], 'applied once each, in order');
  const indexes = h.saved.map((e) => e.index);
  assert.deepEqual(indexes, indexes.map((_, i) => indexes[0]! + i), 'every entry saved once, contiguous');
});

test('a leader that steps down while its Ready is held for disk space no longer says it leads', async (t) => {
  const h = harness();
  t.after(() => h.loop.stop());
  h.loop.start();
  h.loop.withNode((n) => n.campaign());
  await until(() => h.loop.isLeader, 'leadership');
  h.state.full = true;
  h.loop.withNode((n) => n.propose(encodeUtf8('b')));
  await until(() => h.loop.holdingReady, 'the Ready to be held');
  // Another member leads in a later term (as the rest of a cluster elects one past a leader that cannot write).
  const term = h.loop.currentTerm + 1;
  h.loop.withNode((n) => n.step(makeMessage({ type: MessageType.MsgHeartbeat, from: '2', to: '1', term, commit: 0 })));
  await until(() => !h.loop.isLeader, 'the loop to see the step-down');
  assert.equal(h.loop.softState.lead, '2');
  assert.ok(h.loop.holdingReady, 'still held: nothing was persisted meanwhile');
});
