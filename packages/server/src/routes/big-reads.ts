/**
 * Big `get` answers (a recursive GET of a large directory): rendered in slices between which the
 * event loop runs, so that raft's ticks, heartbeats and appends are never held up by a read, and
 * written only as fast as each client takes them.
 *
 * - Time: one scheduler runs every big answer's slices round-robin, at most `sliceMs` per
 *   event-loop turn in all, then yields with setImmediate (timers and I/O run in between). Each
 *   answer scheduling its own setImmediate would not do: every callback queued for the check phase
 *   runs in the same turn, so N readers would hold the loop N slices long.
 * - Memory per reader: an answer renders its next part only while its connection holds less than
 *   `highWaterBytes` unsent, so a client that does not read pins at most that much text (and the
 *   preimages its view keeps, bounded by `maxKeptSize`, and a stall of `stallMs`).
 * - Memory overall: at most `maxRunning` big answers at once; the others wait for a slot, then
 *   read again (a later state is as fresh as the one they were admitted at).
 */
import { performance } from 'node:perf_hooks';
import type { BodySink, BodyStream } from '../http/body-stream.js';
import type { BigListing, RenderStepLimits } from '../store/index.js';

/** Bounds of big answers. */
export interface BigReadLimits {
  /** The first, synchronous rendering step on the live tree; an answer past it is big. */
  readonly firstStep: RenderStepLimits;
  /**
   * The first step while every slot is taken: an answer past it waits for a slot and is read
   * again then, so rendering the whole first step for it would be wasted (300 clients asking
   * for a big directory at once rendered 300 MB on the member's thread and cost it its term).
   */
  readonly busyFirstStep: RenderStepLimits;
  /** One step of a big answer (the scheduler checks the clock between steps). */
  readonly step: RenderStepLimits;
  /** Rendering time per event-loop turn, all big answers together. */
  readonly sliceMs: number;
  /** Unsent bytes a connection may hold before its answer waits for 'drain'. */
  readonly highWaterBytes: number;
  /** Big answers being written at once. */
  readonly maxRunning: number;
  /** An answer whose client took nothing for this long is cut off. */
  readonly stallMs: number;
  /** An answer whose view keeps more than this (see `TreeView.keptSize`) is cut off. */
  readonly maxKeptSize: number;
}

/** The bounds the server uses. */
export const BIG_READ_LIMITS: BigReadLimits = {
  firstStep: { maxWork: 4096, maxChars: 1024 * 1024 },
  busyFirstStep: { maxWork: 64, maxChars: 16 * 1024 },
  step: { maxWork: 256, maxChars: 64 * 1024 },
  sliceMs: 5,
  highWaterBytes: 256 * 1024,
  maxRunning: 8,
  stallMs: 60_000,
  maxKeptSize: 1_000_000,
};

/** A big answer being written: its listing and where it goes. */
class BigAnswer {
  private sink: BodySink | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private over = false;

  constructor(private readonly reads: BigReads, private readonly listing: BigListing) {}

  start(sink: BodySink): void {
    this.sink = sink;
    this.reads.wake(this);
  }

  /** Renders and writes until the deadline or the connection's buffer is full; true to run again. */
  run(deadline: number): boolean {
    const sink = this.sink!;
    const limits = this.reads.limits;
    if (this.over) return false;
    if (sink.gone || this.listing.keptSize > limits.maxKeptSize) return this.finish(false);
    while (sink.bufferedBytes < limits.highWaterBytes) {
      sink.write(this.listing.render(limits.step));
      if (this.listing.done) return this.finish(true);
      if (performance.now() >= deadline) return true;
    }
    this.stallTimer = setTimeout(() => this.finish(false), limits.stallMs);
    this.stallTimer.unref();
    sink.onceDrain(() => {
      clearTimeout(this.stallTimer);
      this.reads.wake(this);
    });
    return false;
  }

  /** Ends the answer (whole, or cut off), frees its view and its slot. */
  finish(whole: boolean): false {
    if (this.over) return false;
    this.over = true;
    clearTimeout(this.stallTimer);
    this.listing.close();
    if (this.sink !== undefined) {
      if (whole) this.sink.end();
      else this.sink.abort();
    }
    this.reads.release();
    return false;
  }
}

/** Admission and scheduling of big answers (see the module comment). */
export class BigReads {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly ready = new Set<BigAnswer>();
  private turnScheduled = false;

  constructor(readonly limits: BigReadLimits = BIG_READ_LIMITS) {}

  /** Big answers being written now. */
  get runningCount(): number {
    return this.running;
  }

  /** The first rendering step for a read that holds a slot (`admitted`) or may get one now. */
  firstStep(admitted: boolean): RenderStepLimits {
    return admitted || this.running < this.limits.maxRunning ? this.limits.firstStep : this.limits.busyFirstStep;
  }

  /** Takes a slot if one is free. */
  tryAdmit(): boolean {
    if (this.running >= this.limits.maxRunning) return false;
    this.running++;
    return true;
  }

  /** Resolves once a slot is held for the caller (handed over by a finishing answer). */
  admitted(): Promise<void> {
    if (this.tryAdmit()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives a slot back (to the first waiter, if any). */
  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.running--;
  }

  /** The body of a big answer holding a slot: rendered in slices once piped, the slot freed at the end. */
  stream(listing: BigListing): BodyStream {
    const answer = new BigAnswer(this, listing);
    return {
      pipe: (sink) => answer.start(sink),
      cancel: () => void answer.finish(false),
    };
  }

  /** Queues an answer for the next slices. */
  wake(answer: BigAnswer): void {
    this.ready.add(answer);
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.turnScheduled = false;
    const deadline = performance.now() + this.limits.sliceMs;
    // Round-robin: each answer in the queue runs once per pass, the ones that can go on rejoin the end.
    while (this.ready.size > 0 && performance.now() < deadline) {
      const answer = this.ready.values().next().value as BigAnswer;
      this.ready.delete(answer);
      if (answer.run(deadline)) this.ready.add(answer);
    }
    if (this.ready.size > 0 && !this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(this.turn);
    }
  };
}
