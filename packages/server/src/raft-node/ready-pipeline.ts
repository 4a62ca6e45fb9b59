/**
 * The Readies the raft loop has taken from the core and written to the WAL but not yet
 * acknowledged. At most `maxSyncs` fsyncs run at a time; Readies written while they run wait for
 * the next one, which then covers all of them (group commit). A Ready is acknowledged (its held-back
 * messages sent, `advance()` called) only once it is durable and every older Ready was
 * acknowledged, so the core sees its Readies acknowledged in the order it handed them out.
 */
import type { Message } from '@deimos/protocol';

/** What the pipeline drives. */
export interface ReadyPipelineDeps {
  /** Starts an fsync of everything written so far; `done` gets the error if it failed. */
  sync(done: (err?: Error) => void): void;
  /** The oldest pending Ready is durable: send the messages it held back and call advance(). */
  acknowledge(messages: Message[]): void;
  /** An fsync ended and acknowledgements were made: the loop may take more Readies. */
  onProgress(): void;
}

interface Pending {
  /** The write this Ready must see durable (0 when it needs no fsync). */
  writeSeq: number;
  messages: Message[];
}

/** See the module comment. */
export class ReadyPipeline {
  private readonly pending: Pending[] = [];
  /** Writes that needed an fsync, numbered; the latest durable one. */
  private written = 0;
  private durable = 0;
  /** The latest write an fsync (running or done) covers. */
  private syncedUpTo = 0;
  private syncsRunning = 0;

  private stopped = false;

  /**
   * `maxSyncs`: fsyncs that may run at once. Each covers everything written before it started, so
   * a later one may finish first and make older Readies durable too; overlapping them lets a Ready
   * written during an fsync start its own instead of waiting for that one to end.
   */
  constructor(private readonly deps: ReadyPipelineDeps, private readonly maxSyncs = 1) {}

  /** Readies taken and not yet acknowledged. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Records a Ready just written: `needsSync` when it must be on disk before it is acknowledged,
   * `messages` what must wait until then. Acknowledges what it can and starts an fsync if needed.
   */
  push(needsSync: boolean, messages: Message[]): void {
    this.pending.push({ writeSeq: needsSync ? ++this.written : 0, messages });
    this.acknowledgeDurable();
    this.startSync();
  }

  /** Stops acknowledging; an fsync still running ends without effect. */
  stop(): void {
    this.stopped = true;
    this.pending.length = 0;
  }

  private acknowledgeDurable(): void {
    while (this.pending.length > 0 && this.pending[0]!.writeSeq <= this.durable) {
      this.deps.acknowledge(this.pending.shift()!.messages);
    }
  }

  private startSync(): void {
    if (this.syncsRunning >= this.maxSyncs || this.written === this.syncedUpTo) return;
    this.syncsRunning++;
    const upTo = this.written;
    this.syncedUpTo = upTo;
    this.deps.sync((err) => {
      // A failed fsync leaves the log in an unknown state: the member must stop (crash) and recover.
      if (err) throw err;
      this.syncsRunning--;
      if (this.stopped) return;
      this.durable = Math.max(this.durable, upTo);
      this.acknowledgeDurable();
      this.startSync();
      this.deps.onProgress();
    });
  }
}
