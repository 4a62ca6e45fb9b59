/**
 * A big read's body as a client worker receives it: chunks the primary renders under its BigReads
 * and sends only as fast as this side acknowledges them. A chunk is acknowledged once the client's
 * connection holds less than the high-water mark, so a slow reader holds at most about that much
 * here and pins nothing on the primary but its bounded view.
 */
import type { BodySink, BodyStream } from '../http/body-stream.js';
import { BIG_READ_LIMITS } from '../routes/big-reads.js';

/** Sends acknowledgements and cancellations to the primary. */
export interface ListingControl {
  ack(bytes: number): void;
  cancel(): void;
}

/** See the module comment. */
export class RemoteListing implements BodyStream {
  private sink: BodySink | undefined;
  private early: string[] = [];
  private ended: 0 | 1 | 2 = 0;
  private unacked = 0;
  private waiting = false;
  private over = false;

  constructor(private readonly control: ListingControl, private readonly highWaterBytes = BIG_READ_LIMITS.highWaterBytes) {}

  /** Whether the listing is over (ended, cut off or cancelled). */
  get done(): boolean {
    return this.over;
  }

  pipe(sink: BodySink): void {
    this.sink = sink;
    const early = this.early;
    this.early = [];
    for (const text of early) this.write(text);
    if (this.ended !== 0) this.finish(this.ended);
  }

  cancel(): void {
    if (this.over) return;
    this.over = true;
    this.control.cancel();
  }

  /** Takes the next chunk; `end` 1 ends the body whole, 2 cuts it off. */
  chunk(text: string, end: 0 | 1 | 2): void {
    if (this.over) return;
    if (this.sink === undefined) {
      if (text !== '') this.early.push(text);
      if (end !== 0) this.ended = end;
      return;
    }
    if (text !== '') this.write(text);
    if (end !== 0) this.finish(end);
  }

  /** The channel is gone: the body is cut off. */
  abort(): void {
    if (this.over) return;
    if (this.sink === undefined) this.ended = 2;
    else this.finish(2);
  }

  private write(text: string): void {
    const sink = this.sink!;
    if (sink.gone) return this.cancel();
    sink.write(text);
    this.unacked += text.length;
    if (sink.bufferedBytes < this.highWaterBytes) return this.ack();
    if (this.waiting) return;
    this.waiting = true;
    sink.onceDrain(() => {
      this.waiting = false;
      if (this.sink!.gone) return this.cancel();
      this.ack();
    });
  }

  private ack(): void {
    if (this.unacked === 0 || this.over) return;
    this.control.ack(this.unacked);
    this.unacked = 0;
  }

  private finish(end: 1 | 2): void {
    if (this.over) return;
    this.over = true;
    if (end === 1) this.sink!.end();
    else this.sink!.abort();
  }
}
