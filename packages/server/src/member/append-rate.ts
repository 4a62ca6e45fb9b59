/**
 * The append counters and rates of `/v2/stats/self`, as etcd keeps them: a count of appends sent
 * (a leader) and received (a follower), and for each direction the packages and bytes per second
 * over the last 200 appends, shown only while the newest of them is under a second old (etcd's
 * statsQueue: a rate goes to nothing a second after appends stop, and is left out of the JSON then).
 */

/** Appends a rate is taken over, at most (etcd's queueCapacity). */
const SAMPLES = 200;
/** A rate whose newest append is older than this is none (etcd clears its queue then). */
const FRESH_MS = 1000;

/** One direction's count and recent appends. */
export class AppendRate {
  /** Appends counted since the member started. */
  count = 0;
  private readonly times = new Float64Array(SAMPLES);
  private readonly sizes = new Float64Array(SAMPLES);
  /** Where the next sample goes, and how many of the slots hold one. */
  private next = 0;
  private held = 0;
  private bytes = 0;

  constructor(private readonly nowMs: () => number = () => Date.now()) {}

  /** Counts one append of about `sizeBytes`. */
  note(sizeBytes: number): void {
    this.count++;
    if (this.held === SAMPLES) this.bytes -= this.sizes[this.next]!;
    else this.held++;
    this.times[this.next] = this.nowMs();
    this.sizes[this.next] = sizeBytes;
    this.bytes += sizeBytes;
    this.next = (this.next + 1) % SAMPLES;
  }

  /**
   * Packages and bytes per second over the held appends, or undefined when there is no rate: none
   * held, the newest a second old or more (the samples are then dropped), or all at one instant
   * (etcd divides by that zero span and cannot encode the result; nothing is shown here).
   */
  rate(): { packages: number; bytes: number } | undefined {
    if (this.held === 0) return undefined;
    const newest = this.times[(this.next + SAMPLES - 1) % SAMPLES]!;
    if (this.nowMs() - newest > FRESH_MS) {
      this.held = 0;
      this.bytes = 0;
      return undefined;
    }
    const oldest = this.times[(this.next + SAMPLES - this.held) % SAMPLES]!;
    const spanSeconds = (newest - oldest) / 1000;
    if (spanSeconds <= 0) return undefined;
    return { packages: this.held / spanSeconds, bytes: this.bytes / spanSeconds };
  }
}
