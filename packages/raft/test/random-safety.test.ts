import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType, MessageType, type Message } from '@deimos/protocol';
import { ProposalDroppedError, SnapshotStatus, StateType } from '@deimos/raft';
import { Network, SeededRng, bytes, cc, text, type NodeOptions } from './network.js';

const IDS = ['1', '2', '3', '4', '5'];

/**
 * Runs a small randomized schedule (ticks, proposals, message drop/duplication/reordering,
 * partitions, restarts, compaction) and checks election safety and state-machine safety as it
 * goes, then heals everything and checks that all nodes converge.
 */
function runSchedule(seed: number, options: NodeOptions, churn = false): void {
  const rng = new SeededRng(seed);
  const net = new Network(IDS, options);
  const leaders = new Map<number, string>();
  const appliedAt = new Map<number, string>();
  net.onApply = (tn, e) => {
    const key = `${e.term}:${text(e.data)}`;
    const prev = appliedAt.get(e.index);
    assert.ok(prev === undefined || prev === key, `seed ${seed}: ${tn.id} applied ${key} at ${e.index}, another node applied ${prev}`);
    appliedAt.set(e.index, key);
  };
  let inFlight: Message[] = [];
  let cutOff = new Set<string>();
  let proposals = 0;
  const checkLeaders = (): void => {
    for (const id of IDS) {
      const st = net.raw(id).status();
      if (st.softState.raftState !== StateType.Leader) continue;
      const prev = leaders.get(st.hardState.term);
      assert.ok(prev === undefined || prev === id, `seed ${seed}: two leaders in term ${st.hardState.term}: ${prev}, ${id}`);
      leaders.set(st.hardState.term, id);
    }
  };
  for (let step = 0; step < 3000; step++) {
    const roll = rng.nextInt(100);
    const id = IDS[rng.nextInt(IDS.length)]!;
    if (roll < 40) {
      net.raw(id).tick();
    } else if (roll < 50) {
      try {
        net.raw(id).propose(bytes(`p${proposals++}`));
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
      }
    } else if (roll < 52) {
      cutOff = new Set(IDS.filter(() => rng.nextInt(3) === 0));
    } else if (roll < 54) {
      cutOff = new Set();
    } else if (roll < 55) {
      net.restart(id);
    } else if (roll < 56) {
      const tn = net.get(id);
      if (tn.appliedIndex > tn.storage.firstIndex() + 5) net.snapshotAndCompact(id);
    } else if (roll < 57 && churn) {
      proposeRandomConfChange(net, rng);
    }
    net.processReadies();
    checkLeaders();
    inFlight.push(...net.takeMessages());
    // Deliver a random subset; drop, duplicate or delay the rest.
    // Like a transport, report the fate of snapshots to their sender.
    const keep: Message[] = [];
    const report = (m: Message, status: SnapshotStatus): void => {
      if (m.type === MessageType.MsgSnap) net.raw(m.from).reportSnapshot(m.to, status);
    };
    for (const m of inFlight) {
      const fate = rng.nextInt(20);
      if (cutOff.has(m.from) !== cutOff.has(m.to) || fate === 0) {
        report(m, SnapshotStatus.Failure);
        continue;
      }
      if (fate < 4) { keep.push(m); continue; }
      net.raw(m.to).step(m);
      report(m, SnapshotStatus.Finish);
      if (fate === 4) keep.push(m);
      net.processReadies();
      checkLeaders();
    }
    inFlight = keep;
  }
  // Liveness: heal everything and let the cluster converge.
  for (let i = 0; i < 300; i++) {
    for (const id of IDS) net.raw(id).tick();
    net.processReadies();
    for (const m of [...inFlight, ...net.takeMessages()]) net.deliver(m);
    inFlight = [];
    net.drain();
    checkLeaders();
  }
  const leader = net.leader();
  assert.notEqual(leader, '0', `seed ${seed}: no leader after healing`);
  net.propose(leader, 'final');
  net.tick(3);
  const expected = net.get(leader).applied;
  assert.equal(expected[expected.length - 1], 'final');
  const { voters, learners } = net.raw(leader).status().confState;
  assert.ok(voters.length >= 3);
  for (const id of [...voters, ...learners]) assert.deepEqual(net.get(id).applied, expected, `seed ${seed}: ${id} diverged`);
  assert.ok(net.sentOf(MessageType.MsgApp).length > 0);
}

/** Proposes a random membership change on the current leader, keeping at least three voters. */
function proposeRandomConfChange(net: Network, rng: SeededRng): void {
  const leader = net.leader();
  if (leader === '0') return;
  const { voters } = net.raw(leader).status().confState;
  const target = IDS[rng.nextInt(IDS.length)]!;
  const types = [ConfChangeType.AddNode, ConfChangeType.AddLearnerNode, ConfChangeType.RemoveNode, ConfChangeType.UpdateNode];
  const type = types[rng.nextInt(types.length)]!;
  const shrinks = type === ConfChangeType.RemoveNode || type === ConfChangeType.AddLearnerNode;
  if (shrinks && (voters.length <= 3 || target === leader)) return;
  try {
    net.raw(leader).proposeConfChange(cc(type, target));
  } catch (err) {
    if (!(err instanceof ProposalDroppedError)) throw err;
  }
}

test('random schedules with membership churn keep safety and converge', () => {
  for (let seed = 1; seed <= 12; seed++) runSchedule(seed * 104729, { preVote: true, checkQuorum: true }, true);
});

for (const [name, options] of [
  ['plain raft', {}],
  ['pre-vote and check-quorum', { preVote: true, checkQuorum: true }],
  ['small messages and windows', { maxSizePerMsg: 1, maxInflightMsgs: 2 }],
] as const) {
  test(`random schedules keep election and state-machine safety and converge (${name})`, () => {
    for (let seed = 1; seed <= 12; seed++) runSchedule(seed * 7919, options);
  });
}
