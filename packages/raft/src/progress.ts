/** The leader's view of one follower's log: how far it matches and where to send next. */
import { ProgressState, type ProgressStatus } from './api.js';
import { Inflights } from './inflights.js';
import { assert, max, min } from './util.js';

/**
 * Probe: we don't know where the follower's log ends; send one MsgApp per heartbeat interval.
 * Replicate: stream optimistically, bounded by {@link Inflights}.
 * Snapshot: a snapshot is on its way; send nothing until it is reported.
 */
export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  /** Index of the snapshot being sent, while in Snapshot state. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In Probe state: a MsgApp was sent and we wait for its answer or a heartbeat response. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, public isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to `n`; returns true if that is news. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected a MsgApp at `rejected`, hinting that its log may match up to
   * `matchHint`; returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = max(min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records that a MsgApp with `entries` entries ending at `lastIndex` was sent. */
  sentEntries(entries: number, lastIndex: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entries > 0) {
        assert(lastIndex + 1 > this.next - 1, 'sent entries behind next');
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    } else {
      assert(false, 'sending entries in snapshot state');
    }
  }

  /** True when no more MsgApp should be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe: return this.probeSent;
      case ProgressState.Replicate: return this.inflights.full();
      case ProgressState.Snapshot: return true;
    }
  }

  toStatus(): ProgressStatus {
    return { match: this.match, next: this.next, state: this.state, isLearner: this.isLearner, recentActive: this.recentActive };
  }
}
