/**
 * Bytes for a socket, written at the end of the event-loop turn (setImmediate) instead of as each
 * piece is made: the loop then reads every socket that is ready before writing to any, so one wake-up
 * serves many requests and a socket gets one write for all the pieces of a turn. On this machine a
 * write over loopback costs as much as the rest of forwarding a small request.
 */
import type { Socket } from 'node:net';

/** Body pieces at least this large are written at once (after the queued text) instead of queued. */
const DIRECT_WRITE_BYTES = 16 * 1024;

const toFlush: TurnWriter[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  const batch = toFlush.splice(0, toFlush.length);
  for (const w of batch) w.flush();
}

/** The queued output of one socket. */
export class TurnWriter {
  /** Queued bytes as latin1 text (one character per byte). */
  private text = '';
  private ending = false;

  constructor(private readonly socket: Socket) {}

  /** Bytes queued and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.text.length;
  }

  /** Queues latin1 text. */
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
   * Queues bytes, framed as one chunk of a chunked body when `chunked`. A large piece is written at
   * once after the queued text; false then means the socket asks the caller to wait for 'drain'.
   */
  bytes(chunk: Buffer, chunked: boolean): boolean {
    if (chunk.length < DIRECT_WRITE_BYTES) {
      this.queue(chunked ? `${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n` : chunk.toString('latin1'));
      return true;
    }
    if (chunked) this.queue(`${chunk.length.toString(16)}\r\n`);
    this.flush();
    const ok = this.socket.write(chunk);
    if (chunked) this.queue('\r\n');
    return ok;
  }

  /** Hands the queued bytes to the socket now. */
  flush(): void {
    const text = this.text;
    if (text === '') return;
    this.text = '';
    if (this.socket.destroyed) return;
    if (this.ending) this.socket.end(text, 'latin1');
    else this.socket.write(text, 'latin1');
  }

  /** Ends the socket once the queued bytes are written. */
  end(): void {
    this.ending = true;
    if (this.text === '' && !this.socket.destroyed) this.socket.end();
  }
}
