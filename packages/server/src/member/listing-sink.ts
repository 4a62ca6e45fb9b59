/**
 * The body of a big read the primary answers for a client worker: BigReads renders it into this
 * sink, which sends each part as a `ListingChunk` and counts the parts not yet acknowledged as its
 * buffered bytes, so rendering goes only as fast as the worker's client takes the answer.
 */
import type { BodySink } from '../http/body-stream.js';
import type { ChannelEnd } from '../worker/channel/channel-end.js';
import { RecordType } from '../worker/channel/records.js';

/** A big read's body, streamed to a worker as fast as it acknowledges the chunks. */
export class ListingSink implements BodySink {
  private sent = 0;
  private acked = 0;
  private drainWaiter: (() => void) | undefined;
  cancelled = false;

  constructor(private readonly channel: ChannelEnd, private readonly tag: number, private readonly onDone: () => void) {}

  get bufferedBytes(): number {
    return this.sent - this.acked;
  }

  get gone(): boolean {
    return this.cancelled || this.channel.isClosed;
  }

  /** Sends the piece to the worker; the writer paces itself by {@link bufferedBytes}, so always true. */
  write(piece: string | Buffer): boolean {
    const text = typeof piece === 'string' ? piece : piece.toString('utf8');
    if (text === '' || this.gone) return true;
    this.sent += text.length;
    this.channel.send({ type: RecordType.ListingChunk, tag: this.tag, text, end: 0 });
    return true;
  }

  onceDrain(fn: () => void): void {
    this.drainWaiter = fn;
    if (this.gone) this.wake();
  }

  /** Ends the body whole (BodySink's `end`). */
  end(): void {
    this.finish(1);
  }

  abort(): void {
    this.finish(2);
  }

  ack(bytes: number): void {
    this.acked = Math.min(this.sent, this.acked + bytes);
    this.wake();
  }

  cancel(): void {
    this.cancelled = true;
    this.wake();
  }

  private wake(): void {
    const fn = this.drainWaiter;
    this.drainWaiter = undefined;
    fn?.();
  }

  private finish(end: 1 | 2): void {
    this.onDone();
    if (!this.channel.isClosed && !this.cancelled) this.channel.send({ type: RecordType.ListingChunk, tag: this.tag, text: '', end });
  }
}

