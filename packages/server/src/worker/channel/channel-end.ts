/**
 * One end of a client worker's channel: a byte stream (a socketpair in production, an in-memory
 * pair in tests) carrying length-prefixed frames (transport/frame-codec.ts) of records
 * (records.ts). Records sent during one event-loop turn go out as one frame at the end of the turn
 * (or earlier, once a frame reaches `batchBytes`, or on `flush()`), in the order they were sent:
 * the primary relies on that order (events before the answers that reflect them). Incoming frames
 * are decoded and handed over record by record, in order, synchronously.
 */
import type { Duplex } from 'node:stream';
import { ByteWriter } from '@deimos/protocol';
import { encodeFrame, FrameDecoder } from '../../transport/frame-codec.js';
import { readRecords, writeRecord, type ChannelRecord } from './records.js';

/** Largest frame accepted (and so, the largest record): a bigger header breaks the channel. */
export const MAX_CHANNEL_FRAME_BYTES = 64 * 1024 * 1024;
/** A frame being built is sent once it reaches this size, so frames stay well below the limit. */
export const CHANNEL_BATCH_BYTES = 1024 * 1024;

/** Options of a {@link ChannelEnd}. */
export interface ChannelEndOptions {
  /** Called with each record received, in order. */
  onRecord(record: ChannelRecord): void;
  /** Called once when the channel is gone (closed by either side, or broken by bad input). */
  onClose(error: Error | undefined): void;
  /** Largest frame accepted (default {@link MAX_CHANNEL_FRAME_BYTES}). */
  maxFrameBytes?: number;
  /** Runs `fn` at the end of the current turn (default setImmediate). */
  schedule?: (fn: () => void) => void;
}

/** See the module comment. */
export class ChannelEnd {
  private writer: ByteWriter | undefined = undefined;
  private scheduled = false;
  private closed = false;
  private readonly decoder: FrameDecoder;
  private readonly schedule: (fn: () => void) => void;

  constructor(private readonly socket: Duplex, private readonly options: ChannelEndOptions) {
    this.decoder = new FrameDecoder(options.maxFrameBytes ?? MAX_CHANNEL_FRAME_BYTES);
    this.schedule = options.schedule ?? ((fn) => void setImmediate(fn));
    socket.on('data', this.onData);
    socket.on('error', (err: Error) => this.end(err));
    socket.on('close', () => this.end(undefined));
    socket.on('end', () => this.end(undefined));
  }

  /** Whether the channel is gone. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes sent and not yet taken by the other side's socket, plus the frame being built. */
  get unsentBytes(): number {
    return this.socket.writableLength + (this.writer?.length ?? 0);
  }

  /** Queues a record for the frame of this turn. */
  send(record: ChannelRecord): void {
    if (this.closed) return;
    const w = (this.writer ??= new ByteWriter(4096));
    writeRecord(w, record);
    if (w.length >= CHANNEL_BATCH_BYTES) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.onTurnEnd);
    }
  }

  /** Sends the frame being built now. */
  flush(): void {
    const w = this.writer;
    if (w === undefined || w.length === 0 || this.closed) return;
    this.writer = undefined;
    this.socket.write(encodeFrame(w.finish()));
  }

  /** Closes the channel (pending records are sent first). */
  close(): void {
    this.flush();
    this.socket.end();
    this.end(undefined);
  }

  /** Breaks the channel at once. */
  destroy(error?: Error): void {
    this.socket.destroy();
    this.end(error);
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    let frames: Buffer[];
    let records: ChannelRecord[] = [];
    try {
      frames = this.decoder.push(chunk);
      for (const f of frames) records = records.length === 0 ? readRecords(f) : records.concat(readRecords(f));
    } catch (err) {
      // Bad bytes from the other process: a bug there, never to be guessed around.
      return this.destroy(err as Error);
    }
    for (const r of records) {
      if (this.closed) return;
      this.options.onRecord(r);
    }
  };

  private end(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.writer = undefined;
    this.options.onClose(error);
  }
}
