/**
 * The request bytes of one connection of a hand-written HTTP/1.1 loop (the member's client port and
 * deimos-proxy), and the step that reads one plain request out of them. A body that arrives in many
 * chunks is gathered and joined once, when it is complete, instead of re-joined at every chunk.
 */
import type { Socket } from 'node:net';
import { escapeHighBytes, hasBareLf, hasMalformedPathEscape, keepsAlive, parseRequestHead, plainBodyLength, type RequestHead } from '@deimos/protocol';

/** Longest head read by a loop; longer ones go to node:http, which applies its own bound (431). */
export const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** What the front of a connection's bytes holds. */
export type PlainRead =
  /** No whole head yet; keep reading. */
  | { kind: 'head-incomplete' }
  /**
   * Not for the loop: a head too long, a bare-LF line end (the loop would wait for a `\r\n\r\n` that
   * never comes), or a request not in the plain form (see request-head.ts in @deimos/protocol) or
   * with a body over the bound. node:http serves the connection from here and answers it.
   */
  | { kind: 'to-node' }
  /** A plain head whose body has not all arrived: `total` bytes are needed. */
  | { kind: 'body-incomplete'; total: number }
  /** A whole request: its head, body (undefined when empty) and size in bytes. */
  | { kind: 'whole'; head: RequestHead; body: Buffer | undefined; keepAlive: boolean; total: number };

/** Reads the request at the front of `buf` (see {@link PlainRead}). */
export function readPlainRequest(buf: Buffer, maxBodyBytes: number): PlainRead {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return buf.length > MAX_HEAD_BYTES || hasBareLf(buf) ? TO_NODE : HEAD_INCOMPLETE;
  const head = parseRequestHead(buf.toString('latin1', 0, headEnd));
  // A malformed escape in the path is Go's bare 400 (goRequestRefusal, at node:http's turn).
  if (head === undefined || hasMalformedPathEscape(head.url)) return TO_NODE;
  const bodyLength = plainBodyLength(head.headers);
  const keepAlive = keepsAlive(head);
  if (bodyLength < 0 || bodyLength > maxBodyBytes || keepAlive === undefined) return TO_NODE;
  const total = headEnd + 4 + bodyLength;
  if (buf.length < total) return { kind: 'body-incomplete', total };
  return { kind: 'whole', head, body: bodyLength > 0 ? buf.subarray(headEnd + 4, total) : undefined, keepAlive, total };
}
const TO_NODE: PlainRead = { kind: 'to-node' };

/**
 * `buf` with the raw bytes of 0x80 and above in its first request line percent-encoded, as the
 * loop's parser hands them on: node:http's parser refuses them (a bare 400) where Go's server takes
 * them, so a request the loop leaves to node:http is given over in the form node:http reads.
 * Requests after it on that connection reach node:http's parser unchanged (it reads the socket
 * itself): raw bytes there still get its 400.
 */
export function withEscapedTarget(buf: Buffer): Buffer {
  let end = buf.indexOf(0x0a);
  if (end < 0) end = buf.length;
  const line = buf.toString('latin1', 0, end);
  const escaped = escapeHighBytes(line);
  return escaped === line ? buf : Buffer.concat([Buffer.from(escaped, 'latin1'), buf.subarray(end)]);
}
const HEAD_INCOMPLETE: PlainRead = { kind: 'head-incomplete' };

/** The unread bytes of one connection; see the module comment. */
export class RequestInput {
  /** The bytes from the front of the next request on (undefined: none). */
  buf: Buffer | undefined;
  /** Chunks of a body still arriving, beyond `buf`, and their total size. */
  private more: Buffer[] = [];
  private moreBytes = 0;
  /** Bytes the current partial request needs before it is looked at again (0: not known). */
  needed = 0;

  /** Bytes held beyond `buf` (a body still arriving). */
  get gatheredBytes(): number {
    return this.moreBytes;
  }

  /**
   * Adds bytes read from the socket. False when they only extend a body that is still incomplete
   * (there is nothing new to read then).
   */
  append(chunk: Buffer): boolean {
    if (this.buf === undefined) this.buf = chunk;
    else if (this.needed > 0) {
      this.more.push(chunk);
      this.moreBytes += chunk.length;
      if (this.buf.length + this.moreBytes < this.needed) return false;
      this.buf = Buffer.concat([this.buf, ...this.more]);
      this.more = [];
      this.moreBytes = 0;
    } else this.buf = Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Consumes the request of `total` bytes at the front. */
  consume(total: number): void {
    this.needed = 0;
    this.buf = this.buf !== undefined && this.buf.length > total ? this.buf.subarray(total) : undefined;
  }

  /** Every unread byte from `from` (the front of the buffer by default) on, joined. */
  rest(from: Buffer | undefined = this.buf): Buffer | undefined {
    return this.moreBytes > 0 && from !== undefined ? Buffer.concat([from, ...this.more]) : from;
  }

  /**
   * Puts the unread bytes back into the socket and stops reading until the loop is ready for them.
   * A client's FIN then waits behind them: the socket emits 'end' only once its buffer is empty
   * (net emits it on an empty buffer even while paused), and a FIN consumed here before a hand-over
   * would never reach node:http (which must see it to close after its answers), nor could bytes be
   * put back after 'end'.
   */
  holdBack(socket: Socket, readEnded: boolean): void {
    socket.pause();
    if (this.buf === undefined || readEnded) return;
    const bytes = this.rest()!;
    this.buf = undefined;
    this.more = [];
    this.moreBytes = 0;
    this.needed = 0;
    socket.unshift(bytes);
  }
}

/** The connection header fields that end a response head, as node:http writes them. */
export function connectionFields(closeAfter: boolean, keepAliveSeconds: number): string {
  return closeAfter ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
}
