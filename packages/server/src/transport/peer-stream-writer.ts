/**
 * The outgoing stream to one peer: a long-lived `GET /raft/stream` upgraded to a raw connection
 * that carries frames of message batches (stream-receiver.ts; no HTTP framing per batch), or for a
 * peer of an older build the chunked body of a `POST`. Everything queued since the last write goes
 * out as one frame; while the socket is backed up nothing more is written, so the next frame
 * batches whatever piled up and the urgent lane of the queue jumps ahead of bulk messages. When the connection fails the queue
 * is dropped, the peer is reported unreachable, and a reconnect follows after exponential backoff
 * with jitter; while waiting, messages for the peer are refused (the raft core retries them).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { encodeMessageBatch, MessageType, type Message, type NodeId } from '@deimos/protocol';
import type { Logger } from '../util/logger.js';
import { encodeFrame } from './frame-codec.js';
import { peerHeaders } from './peer-headers.js';
import { errorMessageOf, openPeerRequest, peerEndpoint, readSmallBody, type PeerTlsSource } from './peer-request.js';
import type { PeerStats } from './peer-stats.js';
import { SendQueue, type SendQueueLimits } from './send-queue.js';
import { LocalDialer, type DialHandle, type FrameSocket, type StreamDialer } from './stream-dialer.js';
import { RAW_STREAM_UPGRADE } from './stream-receiver.js';
import { TransportError } from './transport-errors.js';

/** What frames are written to: a socket, or a request body. */
interface FrameSink {
  write(chunk: Uint8Array): boolean;
}

/** An empty frame: the receiver skips it, and notes that the peer is alive. */
const KEEPALIVE_FRAME = encodeFrame(new Uint8Array(0));

/** Timing and size limits of a {@link PeerStreamWriter}. */
export interface StreamWriterLimits extends SendQueueLimits {
  /** A frame stops taking bulk messages at about this many bytes. */
  frameTargetBytes: number;
  /** First reconnect delay; doubles per failure up to `backoffMaxMs`. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** A connection attempt with no response by then fails. */
  connectTimeoutMs: number;
  /** A write the socket has not drained by then breaks the connection (a dead or stuck peer). */
  stallTimeoutMs: number;
  /** An idle connected stream carries an empty frame this often, so the peer knows we are alive. */
  keepaliveIntervalMs: number;
}

/** Where a writer stands: connecting (messages queue), connected, backoff (messages refused). */
export type StreamWriterState = 'connecting' | 'connected' | 'backoff' | 'closed';

/** Options of a {@link PeerStreamWriter}. */
export interface PeerStreamWriterOptions {
  localId: NodeId;
  peerId: NodeId;
  clusterId: string;
  urls: readonly string[];
  limits: StreamWriterLimits;
  stats: PeerStats;
  tls?: PeerTlsSource;
  logger: Logger;
  /** Returns a number in [0, 1) for backoff jitter. */
  random: () => number;
  /** The connection broke or could not be made: messages to the peer were lost. */
  onUnreachable: () => void;
  /** The peer answered 410: this member was removed from the cluster. */
  onRemoved: () => void;
  /** Makes the upgraded streams (default: on this thread); the chunked form of older peers is always made here. */
  dialer?: StreamDialer;
}

/** The default dialer: streams on the calling thread. */
const LOCAL_DIALER = new LocalDialer();

/** The outgoing stream to one peer; see the module comment. */
export class PeerStreamWriter {
  private current: StreamWriterState = 'connecting';
  private urls: string[];
  private urlIndex = 0;
  private readonly queue: SendQueue;
  /** The chunked POST being made or carrying the stream (an older peer). */
  private req: ClientRequest | undefined;
  /** The upgrade being dialled or carrying the stream. */
  private dialing: DialHandle | undefined;
  /**
   * Where frames are written once connected: the upgraded socket, or (an older peer) the chunked
   * POST body, with the socket under it to cork.
   */
  private out: { stream: FrameSink; socket: Pick<FrameSocket, 'cork' | 'uncork' | 'destroy'> } | undefined;
  /** The peer answered the upgrade 405: it takes the stream only as a chunked POST. */
  private chunked = false;
  /** Bumped whenever a connection is abandoned, so late events of an old request are ignored. */
  private generation = 0;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Failures since the last successful connection. */
  private failures = 0;
  private waitingDrain = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** A frame went out since the last keepalive tick (an idle tick sends an empty one). */
  private wroteFrame = false;

  constructor(private readonly opts: PeerStreamWriterOptions) {
    if (opts.urls.length === 0) throw new TypeError(`peer ${opts.peerId} has no URLs`);
    this.urls = [...opts.urls];
    this.queue = new SendQueue(opts.limits);
    this.backoffMs = opts.limits.backoffMinMs;
    this.connect();
  }

  /** The connection state. */
  get state(): StreamWriterState {
    return this.current;
  }

  /** The peer URL in use (or to be tried next). */
  get currentUrl(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  /** Messages waiting to be written. */
  get queuedMessages(): number {
    return this.queue.length;
  }

  /**
   * Queues a message; false when it was dropped (peer down or queue full). Nothing is written
   * until {@link flush}, so the messages of one Ready travel as one frame.
   */
  send(m: Message): boolean {
    if (this.current === 'closed' || this.current === 'backoff' || !this.queue.push(m)) {
      this.opts.stats.messagesDropped++;
      return false;
    }
    return true;
  }

  /**
   * Replaces the peer's URLs for the connections made from now on. A connection open (or being
   * made) to a URL no longer listed is kept until it breaks, as etcd keeps it: a member whose peer
   * URLs are updated still listens on the old ones until it is restarted on the new, and cutting
   * it off at once would take it out of the quorum meanwhile (a 2-member cluster stops).
   */
  setUrls(urls: readonly string[]): void {
    if (urls.length === 0) throw new TypeError(`peer ${this.opts.peerId} has no URLs`);
    const active = this.urls[this.urlIndex % this.urls.length];
    this.urls = [...urls];
    const still = active === undefined ? -1 : this.urls.indexOf(active);
    this.urlIndex = still >= 0 ? still : 0;
  }

  /** Destroys the connection and timers; queued messages are dropped. */
  close(): void {
    if (this.current === 'closed') return;
    this.abandon();
    clearTimeout(this.retryTimer);
    this.current = 'closed';
    this.opts.stats.setConnected(false);
    this.opts.stats.messagesDropped += this.queue.clear();
  }

  private connect(): void {
    const gen = ++this.generation;
    this.current = 'connecting';
    const identity = peerHeaders(this.opts.clusterId, this.opts.localId, this.opts.peerId);
    try {
      // A URL that cannot be dialled fails like a refused connection: the peer is unreachable
      // (this runs while a committed membership change is applied, which must never throw).
      const url = peerEndpoint(this.urls[this.urlIndex % this.urls.length]!, '/raft/stream');
      if (this.chunked) this.connectChunked(gen, url, identity);
      else {
        this.dialing = (this.opts.dialer ?? LOCAL_DIALER).dial(url, { ...identity, connection: 'Upgrade', upgrade: RAW_STREAM_UPGRADE }, this.opts.tls, {
          upgraded: (socket) => this.onUpgrade(gen, socket),
          refused: (status, message) => this.onRefused(gen, status, message),
          failed: (err) => this.fail(gen, err),
          drain: () => this.onDrain(gen),
        });
      }
    } catch (err) {
      this.req = undefined;
      this.dialing = undefined;
      queueMicrotask(() => this.fail(gen, err as Error));
      return;
    }
    this.connectTimer = setTimeout(() => {
      this.fail(gen, new TransportError('ERR_PEER_TIMEOUT', `no answer within ${this.opts.limits.connectTimeoutMs} ms`));
    }, this.opts.limits.connectTimeoutMs);
  }

  /** The stream as the chunked body of a `POST`, for a peer of a build before raw streams. */
  private connectChunked(gen: number, url: URL, identity: Record<string, string>): void {
    const req = openPeerRequest(url, { ...identity, 'content-type': 'application/octet-stream' }, this.opts.tls, 'POST');
    this.req = req;
    req.on('response', (res) => {
      if (res.statusCode === 200) return this.onChunkedStream(gen, req, res);
      readSmallBody(res, 4096, (body) => this.onRefused(gen, res.statusCode ?? 0, errorMessageOf(body)));
    });
    req.on('error', (err) => this.fail(gen, err));
    req.on('close', () => this.fail(gen, new Error('connection closed')));
    req.on('drain', () => this.onDrain(gen));
    // The headers now: the peer answers as soon as it has checked them; the body is the stream.
    req.flushHeaders();
  }

  /**
   * The peer answered without upgrading: a refusal (410 when this member was removed). A 405 to
   * the upgrade is a member of a build before raw streams (it takes the stream only as a chunked
   * POST): the next attempt, at once, is that.
   */
  private onRefused(gen: number, status: number, message: string): void {
    if (gen !== this.generation) return;
    clearTimeout(this.connectTimer);
    if (status === 405 && !this.chunked) {
      this.abandon();
      this.chunked = true;
      this.connect();
      return;
    }
    if (status === 410) this.opts.onRemoved();
    this.fail(gen, new TransportError('ERR_PEER_REFUSED', `peer answered ${status}: ${message}`, status));
  }

  /** The peer took the stream (101): frames go straight onto the socket from now on. */
  private onUpgrade(gen: number, socket: FrameSocket): void {
    if (gen !== this.generation) {
      socket.destroy();
      return;
    }
    clearTimeout(this.connectTimer);
    this.out = { stream: socket, socket };
    this.connected(gen);
  }

  /** An older peer took the stream as the chunked body of the POST (200). */
  private onChunkedStream(gen: number, req: ClientRequest, res: IncomingMessage): void {
    if (gen !== this.generation) return;
    clearTimeout(this.connectTimer);
    const socket = req.socket as Socket;
    this.out = { stream: req, socket };
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 2_000);
    res.resume();
    res.on('end', () => this.fail(gen, new Error('peer ended the stream')));
    res.on('error', (err) => this.fail(gen, err));
    this.connected(gen);
  }

  private connected(gen: number): void {
    this.current = 'connected';
    this.opts.stats.setConnected(true);
    this.backoffMs = this.opts.limits.backoffMinMs;
    this.failures = 0;
    this.opts.logger.info('peer stream connected', { peer: this.opts.peerId, ...(this.chunked ? { form: 'chunked POST' } : {}) });
    this.startKeepalive(gen, this.out!.stream);
    this.flush();
  }

  /**
   * Writes what is queued to the socket now, as frames of at most about `frameTargetBytes`
   * (nothing while connecting or while the socket is backed up: the next flush or the drain
   * batches whatever piled up). The writes reach the kernel before this returns (one write for all
   * the frames), so a leader's appends are on the wire while it writes its own log.
   */
  flush(): void {
    const out = this.out;
    if (this.current !== 'connected' || this.waitingDrain || out === undefined || this.queue.length === 0) return;
    out.socket.cork();
    try {
      this.writeFrames(out.stream);
    } finally {
      out.socket.uncork();
    }
  }

  private writeFrames(out: FrameSink): void {
    const stats = this.opts.stats;
    while (this.queue.length > 0) {
      const batch = this.queue.takeBatch(this.opts.limits.frameTargetBytes);
      const frame = encodeFrame(encodeMessageBatch(batch));
      stats.messagesSent += batch.length;
      stats.bytesSent += frame.length;
      stats.framesSent++;
      this.wroteFrame = true;
      for (const m of batch) if (m.type === MessageType.MsgHeartbeat) stats.heartbeatSent();
      if (!out.write(frame)) {
        this.waitingDrain = true;
        const gen = this.generation;
        this.stallTimer = setTimeout(() => {
          this.fail(gen, new TransportError('ERR_PEER_TIMEOUT', `stream write not drained within ${this.opts.limits.stallTimeoutMs} ms`));
        }, this.opts.limits.stallTimeoutMs);
        return;
      }
    }
  }

  /**
   * Sends an empty frame on every keepalive tick that saw no other frame. Followers exchange no
   * raft messages, and a stopped peer keeps its TCP connection open: the empty frames are what
   * tells each member, within seconds, which peers are alive (the strict reconfiguration check).
   */
  private startKeepalive(gen: number, out: FrameSink): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      if (gen !== this.generation || this.current !== 'connected') return clearInterval(this.keepaliveTimer);
      if (this.wroteFrame || this.waitingDrain) {
        this.wroteFrame = false;
        return;
      }
      if (!out.write(KEEPALIVE_FRAME)) this.waitingDrain = true;
    }, this.opts.limits.keepaliveIntervalMs);
    this.keepaliveTimer.unref();
  }

  private onDrain(gen: number): void {
    if (gen !== this.generation) return;
    clearTimeout(this.stallTimer);
    this.waitingDrain = false;
    this.flush();
  }

  /** Handles a failed or ended connection once per attempt: drop, report, back off, retry. */
  private fail(gen: number, err: Error): void {
    if (gen !== this.generation || this.current === 'closed') return;
    const wasConnected = this.current === 'connected';
    this.abandon();
    const stats = this.opts.stats;
    stats.setConnected(false);
    stats.connectFailures++;
    stats.messagesDropped += this.queue.clear();
    this.current = 'backoff';
    const fields = { peer: this.opts.peerId, error: err.message, retryMs: this.backoffMs };
    // A peer that stays down would otherwise log every retry: warn on the first failure only.
    if (this.failures++ === 0 || wasConnected) this.opts.logger.warn('peer stream failed', fields);
    else this.opts.logger.debug('peer stream failed', fields);
    // The peer may have been replaced by a newer build meanwhile: the upgrade is tried first again.
    this.chunked = false;
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    const delayMs = this.backoffMs * (0.5 + 0.5 * this.opts.random());
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.limits.backoffMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.current === 'backoff') this.connect();
    }, delayMs);
    this.opts.onUnreachable();
  }

  /** Forgets the current request: later events of it are ignored, its socket is destroyed. */
  private abandon(): void {
    this.generation++;
    clearTimeout(this.connectTimer);
    clearTimeout(this.stallTimer);
    clearInterval(this.keepaliveTimer);
    this.waitingDrain = false;
    this.opts.stats.heartbeatLost();
    const req = this.req;
    const dialing = this.dialing;
    const out = this.out;
    this.req = undefined;
    this.dialing = undefined;
    this.out = undefined;
    req?.destroy();
    dialing?.destroy();
    out?.socket.destroy();
  }
}
