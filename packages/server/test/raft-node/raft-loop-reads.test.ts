/**
 * Linearizable reads of the raft loop across lost requests: a read queued on a member while it
 * campaigns is answered once it wins, and a ReadIndex request lost on the way to a leader that
 * stays leader is asked again. Three loops over in-memory logs, their messages delivered on the
 * event loop through a filter the test controls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, type Entry, type Message } from '@deimos/protocol';
import { MemoryStorage, RawNode } from '@deimos/raft';
import { RaftLoop } from '../../src/raft-node/raft-loop.js';
import { seededRng } from '../../src/util/seeded-rng.js';

const IDS = ['1', '2', '3'];

/** Polls `check` on the event loop until it holds (no fixed sleeps). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Three loops; `drop(m)` decides which messages are lost. Elections only happen when asked (huge election timeout). */
function cluster(drop: (m: Message) => boolean) {
  const loops = new Map<string, RaftLoop>();
  for (const id of IDS) {
    const storage = new MemoryStorage();
    storage.bootstrap({ voters: IDS, learners: [] });
    const node = new RawNode({ id, electionTicks: 100_000, heartbeatTicks: 1, storage, rng: seededRng(Number(id)) });
    const loop = new RaftLoop({
      node,
      log: {
        save(_hs, _entries: Entry[]) {},
        syncAsync: (done) => setImmediate(done),
        saveSnapshot() {},
      },
      mirror: storage,
      stateMachine: { applyEntries() {}, restoreSnapshot() {} },
      sender: {
        send(messages: Message[]) {
          for (const m of messages) {
            if (drop(m)) continue;
            setImmediate(() => loops.get(m.to)?.withNode((n) => n.step(m)));
          }
        },
      },
      tickMs: 10,
      appliedIndex: 0,
      hasPeers: () => true,
    });
    loops.set(id, loop);
  }
  for (const loop of loops.values()) loop.start();
  return { loop: (id: string) => loops.get(id)!, stop: () => { for (const l of loops.values()) l.stop(); } };
}

test('a read queued on a member while it campaigns is answered once it wins the election', async (t) => {
  const state = { isolated: true };
  const c = cluster((m) => state.isolated && m.from === '1');
  t.after(() => c.stop());
  c.loop('1').withNode((n) => n.campaign());
  await until(() => c.loop('1').softState.raftState !== 'StateFollower', 'member 1 to campaign');
  // A candidate has no leader to ask: the core drops the request.
  const read = c.loop('1').linearizableRead(5_000);
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  state.isolated = false;
  c.loop('1').withNode((n) => n.campaign());
  await until(() => c.loop('1').isLeader, 'member 1 to lead');
  assert.ok((await read) >= 1, 'the read is served at an index of the new term');
});

test('a ReadIndex request lost on the way to the leader is asked again', async (t) => {
  const state = { lost: 0 };
  const c = cluster((m) => {
    if (m.type !== MessageType.MsgReadIndex || m.from !== '2' || state.lost > 0) return false;
    state.lost++;
    return true;
  });
  t.after(() => c.stop());
  c.loop('1').withNode((n) => n.campaign());
  await until(() => c.loop('1').isLeader && c.loop('2').softState.lead === '1', 'member 1 to lead');
  const index = await c.loop('2').linearizableRead(5_000);
  assert.equal(state.lost, 1, 'the first request was lost');
  assert.ok(index >= 1);
});

test('reads that time out while no leader answers are let go, not asked again for ever', async (t) => {
  const c = cluster((m) => m.from === '1');
  t.after(() => c.stop());
  c.loop('1').withNode((n) => n.campaign());
  await until(() => c.loop('1').softState.raftState !== 'StateFollower', 'member 1 to campaign');
  await assert.rejects(c.loop('1').linearizableRead(30), /request timed out/);
  // The next re-ask (every 500 ms) drops it from the loop's rounds.
  await until(() => c.loop('1').heldReads === 0, 'the timed-out read to be let go');
});
