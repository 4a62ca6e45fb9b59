/**
 * Length-prefixed frames on a peer byte stream: a big-endian u32 payload length, then the payload.
 * The decoder accepts chunks cut anywhere (a frame, or its 4-byte header, may span many chunks)
 * and refuses a length above its limit before buffering any of it, so a broken or hostile peer
 * cannot make the receiver allocate without bound.
 */
import { TransportError } from './transport-errors.js';

/** Bytes of a frame's length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Builds one frame: the length prefix and `payload`, in one buffer (one write, one HTTP chunk). */
export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Incremental decoder of a frame stream; see the module comment. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Payload length of the frame being assembled, or -1 while its header is incomplete. */
  private expected = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  /**
   * Adds a chunk and returns every frame payload it completed, in order. Throws a
   * {@link TransportError} `ERR_FRAME_TOO_LARGE` when a header announces more than the limit;
   * the stream is unusable afterwards.
   */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.bufferedBytes += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.bufferedBytes < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          throw new TransportError('ERR_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
        }
        this.expected = length;
      }
      if (this.bufferedBytes < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  /** Removes `n` buffered bytes from the front; a view when they sit in one chunk, else a copy. */
  private take(n: number): Buffer {
    this.bufferedBytes -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const use = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, use);
      filled += use;
      if (use === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(use);
    }
    return out;
  }
}
