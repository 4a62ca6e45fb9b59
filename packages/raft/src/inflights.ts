/** A bounded ring of the last indexes of MsgApp messages sent to one follower and not yet acked. */
import { assert } from './util.js';

/** Flow control for a follower in replicate state: at most `capacity` MsgApp in flight. */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    assert(capacity > 0, 'inflights capacity must be positive');
    this.buffer = new Array<number>(capacity).fill(0);
  }

  get length(): number {
    return this.count;
  }

  /** Records a MsgApp whose last entry is `index`; indexes must increase. */
  add(index: number): void {
    assert(!this.full(), 'add to full inflights');
    if (this.count > 0) {
      const last = this.buffer[(this.start + this.count - 1) % this.capacity]!;
      assert(index > last, () => `inflight index ${index} not above ${last}`);
    }
    this.buffer[(this.start + this.count) % this.capacity] = index;
    this.count++;
  }

  /** Frees every message whose last index is <= `to` (the follower acknowledged up to `to`). */
  freeLE(to: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= to) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest message (a heartbeat response proves the follower is alive; unblock the stream). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.buffer[this.start]!);
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}
