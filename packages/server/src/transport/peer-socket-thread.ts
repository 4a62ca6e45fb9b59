/**
 * Outgoing peer streams dialled and written on a thread of their own. On loopback and on fast
 * networks the socket write of a frame is among the largest costs of a leader's consensus thread
 * (profiled at 64 clients: ~20 % of its time in `writeBuffer`; the kernel runs the receiver's TCP
 * processing in the writer's context), and while the thread writes to each follower it is not
 * writing its own log. Here the consensus thread only hands each stream's bytes over, and the
 * socket thread writes them while the consensus thread goes on. Used where the member has CPUs to
 * spare for it (see `--peer-thread`). The bytes of every stream flushed in one task go over in one
 * message at its end (one transferred buffer): each post serialises a message and may wake the
 * thread, and a leader posted 4.5 times a write at one client and 0.25 at 64 with one post per
 * flush, against 2.3 and 0.11 so (batching to the end of the loop turn instead saved little more).
 *
 * Ordering: the bytes of one stream reach its socket in the order they were written here (one
 * port, one thread). Backpressure: the thread says when a socket is backed up (`full`) and when
 * it drained; writes in between are still queued on the socket, as a backed-up local socket
 * queues them, and the stream writer stops writing until the drain (its stall timer bounds it).
 * TLS streams are dialled here when the owner gives the certificate material in a form that
 * crosses threads (`threadTls`); otherwise on the calling thread.
 * If the thread dies, its streams fail (the writers reconnect) and later dials are made locally.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/logger.js';
import { keepYoungGenerationCap } from '../heap-tuning.js';
import type { PeerTlsSource } from './peer-request.js';
import type { FromSocketThread, ThreadTls, ToSocketThread } from './peer-socket-protocol.js';
import { LocalDialer, type DialEvents, type DialHandle, type FrameSocket, type StreamDialer } from './stream-dialer.js';

interface Stream {
  events: DialEvents;
  full: boolean;
  /** Chunks written while corked, sent as one buffer at uncork. */
  corked: Uint8Array[] | undefined;
}

/** See the module comment. */
export class PeerSocketThread implements StreamDialer {
  private readonly worker: Worker;
  private readonly streams = new Map<number, Stream>();
  private readonly local = new LocalDialer();
  private nextId = 1;
  private alive = true;
  /** Flushed bytes not yet posted: stream ids and their chunks, in flush order. */
  private pending: { id: number; chunks: Uint8Array[] }[] = [];
  private pendingBytes = 0;
  private readonly postPending = (): void => this.postWrites();

  constructor(private readonly logger?: Logger, private readonly threadTls?: () => ThreadTls | undefined) {
    this.worker = new Worker(new URL('./peer-socket-thread-main.js', import.meta.url), {
      // The thread holds sockets and the frames in flight; its heap stays small.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on('message', (m: FromSocketThread) => this.onMessage(m));
    keepYoungGenerationCap(this.worker);
    this.worker.on('error', (err) => this.lose(err));
    this.worker.on('exit', () => this.lose(new Error('peer socket thread exited')));
    this.worker.unref();
  }

  dial(url: URL, headers: OutgoingHttpHeaders, tls: PeerTlsSource | undefined, events: DialEvents): DialHandle {
    const material = url.protocol === 'https:' ? this.threadTls?.() : undefined;
    if (!this.alive || (url.protocol !== 'http:' && material === undefined)) return this.local.dial(url, headers, tls, events);
    const id = this.nextId++;
    this.streams.set(id, { events, full: false, corked: undefined });
    this.post({ t: 'dial', id, url: url.href, headers, ...(material !== undefined ? { tls: material } : {}) });
    return { destroy: () => this.destroy(id) };
  }

  /** Stops the thread; its streams end without events (their writers are closed first). */
  async close(): Promise<void> {
    this.alive = false;
    this.streams.clear();
    await this.worker.terminate();
  }

  private destroy(id: number): void {
    if (!this.streams.delete(id) || !this.alive) return;
    // What the stream flushed before goes first, as it would have on a socket of this thread.
    this.postWrites();
    this.post({ t: 'destroy', id });
  }

  private post(m: ToSocketThread, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }

  private onMessage(m: FromSocketThread): void {
    const stream = this.streams.get(m.id);
    if (stream === undefined) return;
    switch (m.t) {
      case 'upgraded':
        return stream.events.upgraded(this.socketOf(m.id, stream));
      case 'refused':
        this.streams.delete(m.id);
        return stream.events.refused(m.status, m.message);
      case 'failed':
        this.streams.delete(m.id);
        return stream.events.failed(new Error(m.message));
      case 'full':
        stream.full = true;
        return;
      case 'drain':
        stream.full = false;
        return stream.events.drain();
    }
  }

  private socketOf(id: number, stream: Stream): FrameSocket {
    const send = (chunks: Uint8Array[]): void => {
      if (chunks.length === 0 || this.streams.get(id) !== stream) return;
      if (this.pending.length === 0) queueMicrotask(this.postPending);
      this.pending.push({ id, chunks });
      for (const c of chunks) this.pendingBytes += c.length;
    };
    return {
      write: (chunk) => {
        if (stream.corked !== undefined) stream.corked.push(chunk);
        else send([chunk]);
        return !stream.full;
      },
      cork: () => {
        stream.corked ??= [];
      },
      uncork: () => {
        const chunks = stream.corked;
        stream.corked = undefined;
        if (chunks !== undefined) send(chunks);
      },
      destroy: () => this.destroy(id),
    };
  }

  /**
   * Posts every flush of the task that just ended, in one buffer of its own, transferred: frames
   * are often slices of node's shared pool, which must not be detached (and whose whole 8 KiB a
   * clone would copy).
   */
  private postWrites(): void {
    if (this.pending.length === 0) return;
    const pending = this.pending;
    const bytes = new Uint8Array(this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.alive) return;
    const parts: number[] = [];
    let at = 0;
    for (const { id, chunks } of pending) {
      const start = at;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      parts.push(id, at - start);
    }
    this.post({ t: 'write', parts, bytes }, [bytes.buffer]);
  }

  private lose(err: Error): void {
    if (!this.alive) return;
    this.alive = false;
    this.logger?.warn('peer socket thread lost: streams are dialled on the consensus thread from now on', { error: err.message });
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) s.events.failed(new Error(`peer socket thread lost: ${err.message}`));
  }
}
