/**
 * `npm run bench:raft`: entries committed per second through an in-memory 3-node cluster.
 *
 * No faults and no I/O: each round proposes a batch of 64-byte entries on the leader, then runs
 * Ready cycles (append to MemoryStorage, deliver messages, apply, advance) until the cluster is
 * quiet. It measures the core's per-entry and per-Ready overhead, not a disk or a network.
 */
import { EntryType, type Message, type NodeId } from '@deimos/protocol';
import { MemoryStorage, RawNode, StateType } from '@deimos/raft';
import { SimRng } from '../sim/rng.js';

const ENTRY_BYTES = 64;
const BATCHES = [1, 16, 256];
const RUN_MS = 1500;
const COMPACT_EVERY = 10_000;

interface BenchNode {
  id: NodeId;
  raw: RawNode;
  storage: MemoryStorage;
  applied: number;
}

function makeCluster(): BenchNode[] {
  const voters = ['1', '2', '3'];
  const rng = new SimRng(1);
  return voters.map((id) => {
    const storage = new MemoryStorage();
    storage.bootstrap({ voters, learners: [] });
    const raw = new RawNode({ id, electionTicks: 10, heartbeatTicks: 1, storage, rng: rng.fork(), maxInflightMsgs: 256 });
    return { id, raw, storage, applied: 0 };
  });
}

interface PumpCounts {
  cycles: number;
  messages: number;
}

/** Runs Ready cycles and delivers messages until nothing moves, adding to `counts`. */
function pump(nodes: BenchNode[], byId: Map<NodeId, BenchNode>, counts: PumpCounts, onCommit: (n: number) => void): void {
  let inbox: Message[] = [];
  for (;;) {
    for (const n of nodes) {
      while (n.raw.hasReady()) {
        const rd = n.raw.ready();
        counts.cycles++;
        counts.messages += rd.messages.length;
        if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) n.storage.applySnapshot(rd.snapshot);
        n.storage.append(rd.entries);
        if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
        inbox = inbox.concat(rd.messages);
        let data = 0;
        for (const e of rd.committedEntries) {
          if (e.type === EntryType.Normal && e.data.length > 0) data++;
          n.applied = e.index;
        }
        if (n === nodes[0]) onCommit(data);
        n.raw.advance();
        if (n.applied - n.storage.firstIndex() > COMPACT_EVERY) n.storage.compact(n.applied - 100);
      }
    }
    if (inbox.length === 0) return;
    const batch = inbox;
    inbox = [];
    for (const m of batch) byId.get(m.to)!.raw.step(m);
  }
}

function run(batch: number): PumpCounts & { entries: number; seconds: number } {
  const nodes = makeCluster();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let committed = 0;
  const count = (n: number): void => { committed += n; };
  nodes[0]!.raw.campaign();
  pump(nodes, byId, { cycles: 0, messages: 0 }, count);
  if (nodes[0]!.raw.status().softState.raftState !== StateType.Leader) throw new Error('node 1 did not become leader');
  const payload = new Uint8Array(ENTRY_BYTES).fill(0x61);
  const counts: PumpCounts = { cycles: 0, messages: 0 };
  committed = 0;
  const start = performance.now();
  let proposed = 0;
  while (performance.now() - start < RUN_MS) {
    for (let i = 0; i < batch; i++) nodes[0]!.raw.propose(payload);
    proposed += batch;
    pump(nodes, byId, counts, count);
  }
  const seconds = (performance.now() - start) / 1000;
  if (committed !== proposed) throw new Error(`proposed ${proposed} but the leader applied ${committed}`);
  return { entries: committed, seconds, ...counts };
}

function main(): void {
  console.log(`raft throughput: 3 nodes in memory, ${ENTRY_BYTES}-byte entries, ${RUN_MS} ms per row`);
  console.log('batch  entries   entries/s   MB/s  Readys/batch  msgs/batch');
  for (const batch of BATCHES) {
    const r = run(batch);
    const rate = r.entries / r.seconds;
    console.log(
      `${String(batch).padStart(5)}  ${String(r.entries).padStart(7)}  ${rate.toFixed(0).padStart(10)}  `
      + `${((rate * ENTRY_BYTES) / 1e6).toFixed(2).padStart(5)}  ${(r.cycles / (r.entries / batch)).toFixed(1).padStart(12)}  `
      + `${(r.messages / (r.entries / batch)).toFixed(1).padStart(10)}`,
    );
  }
}

main();
