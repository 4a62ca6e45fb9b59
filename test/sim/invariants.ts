/**
 * The safety checker: it watches every node's durable writes, applies and reads as they happen and
 * throws an {@link InvariantViolation} the moment a Raft safety property fails.
 *
 * Checked: election safety (one leader per term, over the whole history), one vote per term and
 * monotonic hard state, log matching (an (index, term) pair fixes the entry and its predecessor's
 * term, which by induction fixes the whole prefix), leader completeness, state-machine safety
 * (same entry and same state digest at every index on every node, across restarts and snapshots),
 * committed entries never truncated, and linearizable ReadIndex reads.
 */
import { EntryType, NONE, type Entry, type HardState, type NodeId, type Snapshot } from '@deimos/protocol';
import type { ReadState } from '@deimos/raft';
import type { DurableState } from './durable-state.js';
import { INITIAL_DIGEST, decodeOp, entryKey, type KvMachine } from './kv-machine.js';
import { check } from './violation.js';

/** What the checker needs to see of a node. */
export interface NodeView {
  readonly id: NodeId;
  readonly durable: DurableState;
}

interface CommitObservation {
  /** The new cluster-wide highest commit index. */
  index: number;
  /** Term of the node that first reported it (the committing leader's term, or its follower's). */
  observerTerm: number;
  /** Term of the entry at `index` in that node's log. */
  entryTerm: number | undefined;
}

interface AppliedRecord {
  key: string;
  term: number;
  /** State machine digest after applying this entry. */
  digest: number;
}

/** Safety properties over the whole run; one instance per simulation. */
export class SafetyChecker {
  private readonly leaderByTerm = new Map<number, NodeId>();
  private readonly entryAt = new Map<string, { key: string; prevTerm: number | undefined; node: NodeId }>();
  /** applied[i] is the entry at index i + 1 as first applied anywhere. */
  private readonly applied: AppliedRecord[] = [];
  private readonly writesByKey = new Map<string, Array<{ index: number; value: string }>>();
  private readonly commitObservations: CommitObservation[] = [];
  private readonly reads = new Map<number, { minIndex: number; readIndex: number }>();
  private readonly completenessChecked = new Set<string>();
  private readonly lastHardState = new Map<NodeId, HardState>();
  /** Highest commit index any node has persisted. */
  maxCommit = 0;
  readsChecked = 0;

  /** Highest index applied anywhere. */
  get appliedIndex(): number {
    return this.applied.length;
  }

  /** Term history: the leader of each term seen so far. */
  leaders(): ReadonlyMap<number, NodeId> {
    return this.leaderByTerm;
  }

  becameLeader(node: NodeView, term: number): void {
    const other = this.leaderByTerm.get(term);
    check(other === undefined || other === node.id, 'election-safety',
      () => `nodes ${other} and ${node.id} both became leader in term ${term}`);
    this.leaderByTerm.set(term, node.id);
  }

  /** Leader completeness: every entry committed in an earlier term is in the new leader's log. */
  leaderLogDurable(node: NodeView, term: number): void {
    const tag = `${node.id}/${term}`;
    if (this.completenessChecked.has(tag)) return;
    this.completenessChecked.add(tag);
    let obs: CommitObservation | undefined;
    for (let i = this.commitObservations.length - 1; i >= 0; i--) {
      if (this.commitObservations[i]!.observerTerm < term) {
        obs = this.commitObservations[i];
        break;
      }
    }
    if (obs === undefined) return;
    const d = node.durable;
    const snapIndex = d.snapshotIndex();
    check(d.lastIndex() >= obs.index, 'leader-completeness',
      () => `leader ${node.id} of term ${term} has last index ${d.lastIndex()} but ${obs.index} was committed in term ${obs.observerTerm}`);
    if (obs.index > snapIndex && obs.entryTerm !== undefined) {
      check(d.term(obs.index) === obs.entryTerm, 'leader-completeness',
        () => `leader ${node.id} of term ${term} has term ${d.term(obs.index)} at committed index ${obs.index}, expected ${obs.entryTerm}`);
    }
    const hi = Math.min(obs.index, this.applied.length);
    for (let i = snapIndex + 1; i <= hi; i++) {
      check(d.term(i) === this.applied[i - 1]!.term, 'leader-completeness',
        () => `leader ${node.id} of term ${term} has term ${d.term(i)} at committed index ${i}, applied everywhere as term ${this.applied[i - 1]!.term}`);
    }
  }

  /** Log matching, and no committed entry ever truncated from a durable log. */
  entriesPersisted(node: NodeView, entries: readonly Entry[], removed: readonly Entry[]): void {
    const d = node.durable;
    for (const r of removed) {
      const now = d.term(r.index);
      if (now === r.term) continue;
      check(r.index > d.hardState.commit, 'committed-entry-lost',
        () => `node ${node.id} truncated entry ${r.index}/${r.term} at or below its commit ${d.hardState.commit}`);
      const rec = this.applied[r.index - 1];
      check(rec === undefined || rec.term !== r.term, 'committed-entry-lost',
        () => `node ${node.id} truncated committed entry ${r.index}/${r.term} (replaced by term ${now})`);
    }
    for (const e of entries) {
      if (e.index <= d.snapshotIndex()) continue;
      const key = entryKey(e);
      const prevTerm = d.term(e.index - 1);
      const tag = `${e.index}/${e.term}`;
      const seen = this.entryAt.get(tag);
      if (seen === undefined) {
        this.entryAt.set(tag, { key, prevTerm, node: node.id });
        continue;
      }
      check(seen.key === key, 'log-matching',
        () => `entry ${tag} differs between node ${seen.node} and node ${node.id}`);
      check(seen.prevTerm === undefined || prevTerm === undefined || seen.prevTerm === prevTerm, 'log-matching',
        () => `entry ${tag} follows term ${seen.prevTerm} on node ${seen.node} but term ${prevTerm} on node ${node.id}`);
      if (seen.prevTerm === undefined && prevTerm !== undefined) seen.prevTerm = prevTerm;
    }
  }

  /**
   * One vote per term, monotonic term and commit, commit within the log. `prev` is compared with
   * what this checker saw persisted last, which survives crashes: a server that loses its vote or
   * term on restart is caught here.
   */
  hardStatePersisted(node: NodeView, durablePrev: HardState, next: HardState): void {
    const prev = this.lastHardState.get(node.id) ?? durablePrev;
    this.lastHardState.set(node.id, { ...next });
    check(next.term >= prev.term, 'hard-state-monotonic',
      () => `node ${node.id} term went from ${prev.term} to ${next.term}`);
    check(next.commit >= prev.commit, 'hard-state-monotonic',
      () => `node ${node.id} commit went from ${prev.commit} to ${next.commit}`);
    check(next.term !== prev.term || prev.vote === NONE || next.vote === prev.vote, 'vote-once-per-term',
      () => `node ${node.id} voted for ${prev.vote} and then ${next.vote} in term ${next.term}`);
    const d = node.durable;
    check(next.commit <= d.lastIndex(), 'committed-entry-lost',
      () => `node ${node.id} persisted commit ${next.commit} beyond its durable last index ${d.lastIndex()}`);
    if (next.commit > this.maxCommit) {
      this.maxCommit = next.commit;
      this.commitObservations.push({ index: next.commit, observerTerm: next.term, entryTerm: d.term(next.commit) });
    }
  }

  snapshotPersisted(node: NodeView, snap: Snapshot): void {
    const { index, term } = snap.metadata;
    check(index <= this.maxCommit, 'snapshot-consistency',
      () => `node ${node.id} received a snapshot at ${index} beyond the highest commit ${this.maxCommit}`);
    const rec = this.applied[index - 1];
    check(rec === undefined || rec.term === term, 'snapshot-consistency',
      () => `node ${node.id} received a snapshot at ${index}/${term} but that index was applied with term ${rec!.term}`);
  }

  snapshotInstalled(node: NodeView, snap: Snapshot, kv: KvMachine, appliedBefore: number): void {
    const index = snap.metadata.index;
    check(index > appliedBefore, 'snapshot-consistency',
      () => `node ${node.id} installed a snapshot at ${index} over applied state at ${appliedBefore}`);
    this.checkDigest(node, index, kv.digest, 'installed snapshot');
  }

  snapshotCreated(node: NodeView, snap: Snapshot, kv: KvMachine): void {
    this.checkDigest(node, snap.metadata.index, kv.digest, 'created snapshot');
  }

  private checkDigest(node: NodeView, index: number, digest: number, what: string): void {
    check(index <= this.applied.length, 'snapshot-consistency',
      () => `node ${node.id} ${what} at ${index}, beyond anything applied (${this.applied.length})`);
    const want = index === 0 ? INITIAL_DIGEST : this.applied[index - 1]!.digest;
    check(digest === want, 'state-machine-safety',
      () => `node ${node.id} ${what} at ${index} with state digest ${digest.toString(16)}, others have ${want.toString(16)}`);
  }

  /** State machine safety: every node applies the same entry and reaches the same state at each index. */
  entryApplied(node: NodeView, e: Entry, kv: KvMachine): void {
    const d = node.durable;
    check(e.index <= d.hardState.commit, 'apply-order',
      () => `node ${node.id} applied ${e.index} beyond its persisted commit ${d.hardState.commit}`);
    const key = entryKey(e);
    const rec = this.applied[e.index - 1];
    if (rec !== undefined) {
      check(rec.key === key, 'state-machine-safety',
        () => `node ${node.id} applied ${e.index}/${e.term} '${key}', others applied '${rec.key}'`);
      check(rec.digest === kv.digest, 'state-machine-safety',
        () => `node ${node.id} reached state digest ${kv.digest.toString(16)} at ${e.index}, others ${rec.digest.toString(16)}`);
      return;
    }
    check(e.index === this.applied.length + 1, 'state-machine-safety',
      () => `node ${node.id} applied ${e.index} while the cluster history ends at ${this.applied.length}`);
    this.applied.push({ key, term: e.term, digest: kv.digest });
    if (e.type === EntryType.Normal && e.data.length > 0) {
      const op = decodeOp(e.data);
      let writes = this.writesByKey.get(op.key);
      if (writes === undefined) this.writesByKey.set(op.key, (writes = []));
      writes.push({ index: e.index, value: op.value });
    }
  }

  /** Remembers the cluster-wide commit index at the moment a read is requested. */
  readRequested(readId: number): void {
    this.reads.set(readId, { minIndex: this.maxCommit, readIndex: 0 });
  }

  readStateReceived(node: NodeView, rs: ReadState, readId: number): void {
    const req = this.reads.get(readId);
    if (req === undefined) return;
    check(rs.index >= req.minIndex, 'linearizable-read',
      () => `read ${readId} on node ${node.id} got read index ${rs.index}, but ${req.minIndex} was committed when it was requested`);
    req.readIndex = rs.index;
  }

  /**
   * A served read must come from a state at or past both its read index and the commit index known
   * when it was requested, and must show the value the cluster history has at that state.
   */
  readServed(node: NodeView, readId: number, key: string, value: string | undefined, appliedIndex: number): void {
    const req = this.reads.get(readId);
    this.reads.delete(readId);
    if (req !== undefined) {
      const floor = Math.max(req.minIndex, req.readIndex);
      check(appliedIndex >= floor, 'linearizable-read',
        () => `read ${readId} of '${key}' on node ${node.id} served at applied index ${appliedIndex}, below ${floor} `
          + `(read index ${req.readIndex}, commit ${req.minIndex} at request time)`);
    }
    const want = this.valueAt(key, appliedIndex);
    check(value === want, 'linearizable-read',
      () => `read ${readId} of '${key}' on node ${node.id} at applied index ${appliedIndex} returned ${value}, history says ${want}`);
    this.readsChecked++;
  }

  /** The value of `key` after applying the cluster history up to `index`. */
  valueAt(key: string, index: number): string | undefined {
    const writes = this.writesByKey.get(key);
    if (writes === undefined) return undefined;
    let lo = 0;
    let hi = writes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (writes[mid]!.index <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : writes[lo - 1]!.value;
  }
}
