/** The configuration (voters and learners), the per-peer {@link Progress}, and election votes. */
import type { ConfState, NodeId } from '@deimos/protocol';
import { Progress } from './progress.js';
import { assert } from './util.js';

/** Outcome of counting votes. */
export enum VoteResult {
  Pending = 'pending',
  Won = 'won',
  Lost = 'lost',
}

/** Tracks the membership and, on the leader, how far each member's log matches. */
export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private readonly quorumScratch: number[] = [];

  constructor(readonly maxInflightMsgs: number) {}

  /** Replaces the configuration (startup and snapshot restore); every member starts probing at `next`. */
  applyConfState(cs: ConfState, next: number): void {
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    for (const id of cs.voters) this.addVoter(id, next);
    for (const id of cs.learners) this.addLearner(id, next);
  }

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  isMember(id: NodeId): boolean {
    return this.voters.has(id) || this.learners.has(id);
  }

  /** Adds a voter, or promotes a learner (keeping its progress). */
  addVoter(id: NodeId, next: number): void {
    this.learners.delete(id);
    this.voters.add(id);
    const pr = this.progress.get(id);
    if (pr !== undefined) pr.isLearner = false;
    else this.progress.set(id, this.newProgress(next, false));
  }

  /** Adds a learner, or demotes a voter (keeping its progress). */
  addLearner(id: NodeId, next: number): void {
    this.voters.delete(id);
    this.learners.add(id);
    const pr = this.progress.get(id);
    if (pr !== undefined) pr.isLearner = true;
    else this.progress.set(id, this.newProgress(next, true));
  }

  remove(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
    this.votes.delete(id);
  }

  private newProgress(next: number, isLearner: boolean): Progress {
    const pr = new Progress(next, this.maxInflightMsgs, isLearner);
    // A new member counts as active so that the leader may send it a snapshot right away.
    pr.recentActive = true;
    return pr;
  }

  /** Forgets what we knew about every member (new term): all probe from `next`; `self` matches `selfMatch`. */
  resetProgress(next: number, self: NodeId, selfMatch: number): void {
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(next, this.maxInflightMsgs, pr.isLearner);
      if (id === self) fresh.match = selfMatch;
      this.progress.set(id, fresh);
    }
  }

  /** True when the only voter is `id`. */
  isSingleton(id: NodeId): boolean {
    return this.voters.size === 1 && this.voters.has(id);
  }

  /** The largest value `v` such that a quorum of voters has `valueOf(voter) >= v` (0 without voters). */
  quorumValue(valueOf: (id: NodeId) => number): number {
    const n = this.voters.size;
    if (n === 0) return 0;
    // Runs on every append acknowledgement: an insertion sort (descending) into a reused array
    // instead of spread + map + sort, which allocated ~1 KiB a call (V8's sort state).
    const values = this.quorumScratch;
    values.length = n;
    let filled = 0;
    for (const id of this.voters) {
      const v = valueOf(id);
      let i = filled++;
      while (i > 0 && values[i - 1]! < v) {
        values[i] = values[i - 1]!;
        i--;
      }
      values[i] = v;
    }
    return values[Math.floor(n / 2)]!;
  }

  /** The highest index replicated on a quorum of voters. */
  committed(): number {
    return this.quorumValue((id) => this.progress.get(id)?.match ?? 0);
  }

  /** True when a quorum of voters (counting `self`) was recently active. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= Math.floor(this.voters.size / 2) + 1;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records the first vote from `id`; later ones are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts the votes of voters. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const quorum = Math.floor(this.voters.size / 2) + 1;
    const missing = this.voters.size - granted - rejected;
    let result = VoteResult.Lost;
    if (granted >= quorum) result = VoteResult.Won;
    else if (granted + missing >= quorum) result = VoteResult.Pending;
    return { granted, rejected, result };
  }

  /** Checks that progress exists exactly for the members. */
  assertConsistent(): void {
    for (const id of this.voters) assert(!this.learners.has(id), `${id} is both voter and learner`);
    assert(this.progress.size === this.voters.size + this.learners.size, 'progress map does not match membership');
    for (const [id, pr] of this.progress) assert(pr.isLearner === this.learners.has(id), `learner flag of ${id} is wrong`);
  }
}
