/**
 * Ends a member whose log lost entries it had acknowledged. A leader sends a heartbeat's commit
 * index no further than what this member acknowledged having, so a commit past the end of this
 * log means the data directory lost acknowledged entries (an older copy put back, a disk that lost
 * writes). Such a member must not vote or acknowledge again: a majority that held a committed entry
 * may no longer exist with it. etcd panics at the first such heartbeat. One message could come
 * from a broken or forged peer, though, and the core refuses it without a change; what ends the
 * member is the same refusal over a span, as a live leader keeps sending it every heartbeat.
 * Before this, such a member ran on for ever, refusing every heartbeat, answering nothing.
 */

/** See the module comment. */
export class LostEntriesWatch {
  private firstAtMs: number | undefined;
  private lastAtMs = 0;

  /**
   * @param spanMs how long the refusals must keep coming
   * @param gapMs a longer pause between two of them starts the span again
   */
  constructor(private readonly spanMs: number, private readonly gapMs: number, private readonly now: () => number) {}

  /** Notes one refused heartbeat; true once they have come for the whole span without a longer gap. */
  note(): boolean {
    const t = this.now();
    if (this.firstAtMs === undefined || t - this.lastAtMs > this.gapMs) this.firstAtMs = t;
    this.lastAtMs = t;
    return t - this.firstAtMs >= this.spanMs;
  }
}
