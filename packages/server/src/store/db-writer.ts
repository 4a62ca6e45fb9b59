/**
 * Moves the state database's write-behind commits off the member's thread. Profiled on a 4-core
 * member writing at 64 clients, the commits (upserting each changed node and inserting each event
 * into SQLite's B-trees) were the largest single cost of the consensus thread, and a commit of
 * 50 ms of writes holds every request behind it (the single-client write p99). With a writer, the
 * member's thread flattens each batch into arrays of primitives (db-writer-protocol.ts) and posts
 * it; a thread of its own (db-writer-thread.ts) commits the batches in order on its own connection.
 *
 * Durability is unchanged: the write-behind was never what made a write durable (the raft WAL is;
 * a restart replays the log from the database's applied index), and everything that needs the
 * database current first calls {@link drain}, which waits until every posted batch is committed
 * and throws the error that stops one (SQLITE_FULL): compaction before it releases WAL segments,
 * snapshots, hashes, reads of old events, restores and closing.
 *
 * If the thread dies, {@link onLost} is told and {@link takeBack} returns the batches it had not
 * committed, for the owner to commit itself.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { WRITER_WORDS, WriterWord, type EncodedBatch, type WriterMessage, type WriterThreadData } from './db-writer-protocol.js';
import { keepYoungGenerationCap } from '../heap-tuning.js';
import { SqliteThreadError } from './store-errors.js';

/** Longest a {@link DatabaseWriter.drain} (or stop) waits for the thread. */
const WAIT_LIMIT_MS = 30_000;

/** Options of a {@link DatabaseWriter}. */
export interface DatabaseWriterOptions {
  /** A batch failed in the background (reported as it happened; `drain` throws it again). */
  onError?: (err: SqliteThreadError) => void;
  /** The thread died: the owner commits by itself again (after {@link DatabaseWriter.takeBack}). */
  onLost?: () => void;
  /** A batch was committed, taking this long. */
  onCommit?: (seconds: number) => void;
}

/** See the module comment. */
export class DatabaseWriter {
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * WRITER_WORDS));
  private readonly worker: Worker;
  private readonly errors: MessagePort;
  /** Batches posted and not yet seen committed, oldest first. */
  private inFlight: EncodedBatch[] = [];
  private posted = 0;
  private alive = true;
  /** The last failure the thread reported (the async listener may have taken it off the port). */
  private lastFailure: SqliteThreadError | undefined;

  constructor(path: string, private readonly options: DatabaseWriterOptions = {}) {
    const channel = new MessageChannel();
    this.errors = channel.port1;
    const data: WriterThreadData = { path, state: this.state.buffer as SharedArrayBuffer, errors: channel.port2 };
    this.worker = new Worker(new URL('./db-writer-thread.js', import.meta.url), {
      workerData: data,
      transferList: [channel.port2],
      // The thread holds at most the batches in flight; its heap stays small.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 4 },
    });
    this.errors.on('message', (m: { message: string; code: unknown } | { commitSeconds: number }) => {
      if ('commitSeconds' in m) return options.onCommit?.(m.commitSeconds);
      this.lastFailure = new SqliteThreadError(m.message, m.code);
      options.onError?.(this.lastFailure);
    });
    keepYoungGenerationCap(this.worker);
    this.worker.on('error', () => this.lose());
    this.worker.on('exit', () => this.lose());
    // After the listeners (adding one refs them again): neither keeps the process alive.
    this.errors.unref();
    this.worker.unref();
  }

  /** False once the thread is gone (stopped or dead). */
  get running(): boolean {
    return this.alive;
  }

  /** Batches posted and not committed yet. */
  get pending(): number {
    this.trim();
    return this.inFlight.length;
  }

  /** Hands one batch to the thread. */
  post(batch: EncodedBatch): void {
    this.trim();
    this.inFlight.push(batch);
    this.posted = (this.posted + 1) | 0;
    this.worker.postMessage({ batch } satisfies WriterMessage);
  }

  /**
   * Returns once every posted batch is committed. Throws the thread's error when the oldest one
   * fails again (it stays queued: a later drain tries it again), or when the thread does not
   * answer within the wait limit or is gone.
   */
  drain(): void {
    if (this.pending === 0) return;
    if (!this.alive) throw new Error('the state database writer thread is gone');
    const failuresBefore = Atomics.load(this.state, WriterWord.Failures);
    this.worker.postMessage('retry' satisfies WriterMessage);
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const committed = Atomics.load(this.state, WriterWord.Committed);
      if (committed === this.posted) {
        this.inFlight = [];
        return;
      }
      if (Atomics.load(this.state, WriterWord.Failures) !== failuresBefore) throw this.lastError();
      if (Atomics.load(this.state, WriterWord.Stopped) === 1) throw new Error('the state database writer thread stopped');
      if (this.worker.threadId === -1) {
        // Died before its exit event was seen: the owner takes the batches back now (onLost).
        this.lose();
        if (this.pending === 0 || this.options.onLost !== undefined) return;
        throw new Error('the state database writer thread is gone');
      }
      if (Date.now() > deadline) throw new Error(`the state database writer thread committed nothing for ${WAIT_LIMIT_MS / 1000} s`);
      Atomics.wait(this.state, WriterWord.Committed, committed, 50);
    }
  }

  /** Closes the thread's connection (after the batches in flight) and ends the thread. */
  stop(): void {
    if (!this.alive) return;
    this.worker.postMessage('stop' satisfies WriterMessage);
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (Atomics.load(this.state, WriterWord.Stopped) !== 1 && Date.now() < deadline) {
      Atomics.wait(this.state, WriterWord.Committed, Atomics.load(this.state, WriterWord.Committed), 50);
    }
    this.alive = false;
    if (Atomics.load(this.state, WriterWord.Stopped) !== 1) void this.worker.terminate();
  }

  /** The batches the thread had not committed when it died (call once, after {@link DatabaseWriterOptions.onLost}). */
  takeBack(): EncodedBatch[] {
    this.trim();
    const left = this.inFlight;
    this.inFlight = [];
    return left;
  }

  /** Drops the batches the thread has committed from the ones kept in flight. */
  private trim(): void {
    const left = (this.posted - Atomics.load(this.state, WriterWord.Committed)) | 0;
    if (left < this.inFlight.length) this.inFlight.splice(0, this.inFlight.length - left);
  }

  private lastError(): SqliteThreadError {
    for (let m = receiveMessageOnPort(this.errors); m !== undefined; m = receiveMessageOnPort(this.errors)) {
      const failure = m.message as { message: string; code: unknown };
      this.lastFailure = new SqliteThreadError(failure.message, failure.code);
    }
    return this.lastFailure ?? new SqliteThreadError('the state database writer thread failed a commit', undefined);
  }

  private lose(): void {
    if (!this.alive) return;
    this.alive = false;
    this.options.onLost?.();
  }
}
