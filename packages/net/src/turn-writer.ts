/**
 * Bytes for a socket, written at the end of the event-loop turn (setImmediate) instead of as each
 * piece is made: the loop then reads every socket that is ready before writing to any, so one
 * wake-up serves many requests and a socket gets one write for all the pieces of a turn. Answering
 * inside each read made a wake-up per request and cost about twice the CPU per request at 64
 * clients (serializable GETs on the member's client port: ~87 µs against ~43 µs); on loopback a
 * write costs as much as the rest of forwarding a small request through the proxy.
 *
 * The member's client port queues its answers as JavaScript strings (`utf8`: JSON bodies may hold
 * any character); the proxy queues bytes it copies from members as `latin1` text (one character per
 * byte). A writer is one or the other; Buffers go through {@link TurnWriter.bytes} in both.
 */
import type { Socket } from 'node:net';

/** Body pieces at least this large are written at once (after the queued text) instead of queued. */
const DIRECT_WRITE_BYTES = 16 * 1024;

const toFlush: TurnWriter[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // A writer queued again while flushing (none expected: flush only writes) waits for the next turn.
  const batch = toFlush.splice(0, toFlush.length);
  for (const w of batch) w.flush();
}

/** The queued output of one socket; see the module comment. */
export class TurnWriter {
  private text = '';
  private ending = false;

  /** `encoding` of the queued text: `utf8` for answers made here, `latin1` for copied bytes. */
  constructor(private readonly socket: Socket, private readonly encoding: 'utf8' | 'latin1' = 'latin1') {}

  /** Characters queued and not yet handed to the socket (bytes for a latin1 writer). */
  get queuedBytes(): number {
    return this.text.length;
  }

  /** Queues text, written at the end of this turn (or at an earlier {@link flush}). */
  queue(text: string): void {
    if (this.text === '') {
      toFlush.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    this.text += text;
  }

  /**
   * Queues bytes, framed as one chunk of a chunked body when `chunked`. A large piece (any piece
   * for a utf8 writer, whose text cannot carry raw bytes) is written at once after the queued text;
   * false then means the socket asks the caller to wait for 'drain'.
   */
  bytes(chunk: Buffer, chunked: boolean): boolean {
    if (this.encoding === 'latin1' && chunk.length < DIRECT_WRITE_BYTES) {
      this.queue(chunked ? `${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n` : chunk.toString('latin1'));
      return true;
    }
    if (chunked) this.queue(`${chunk.length.toString(16)}\r\n`);
    this.flush();
    const ok = this.socket.write(chunk);
    if (chunked) this.queue('\r\n');
    return ok;
  }

  /** Hands the queued text to the socket now. */
  flush(): void {
    const text = this.text;
    if (text === '') return;
    this.text = '';
    if (this.socket.destroyed) return;
    if (this.ending) this.socket.end(text, this.encoding);
    else this.socket.write(text, this.encoding);
  }

  /** Ends the socket once the queued text is written (at the end of the turn, or at once when none is queued). */
  end(): void {
    this.ending = true;
    if (this.text === '' && !this.socket.destroyed) this.socket.end();
  }
}
