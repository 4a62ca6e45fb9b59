/**
 * The peer transport of a member: one outgoing stream per remote peer (see peer-stream-writer.ts),
 * the HTTP handler for the streams and snapshot transfers other peers open to this member, and
 * snapshot transfers of its own on separate connections. It implements the raft loop's
 * `MessageSender`; received messages, unreachable peers and snapshot outcomes flow back through
 * the `on*` listeners, which are never called from inside `send()` (the raft loop may be in the
 * middle of a Ready), but from a later microtask or I/O callback.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { MessageType, type Message, type NodeId } from '@deimos/protocol';
import { SnapshotStatus } from '@deimos/raft';
import type { Logger } from '../util/logger.js';
import { checkPeerRequest, peerHeaders, peerRequestCheck, refuse, refuseRaw, type LocalIdentity } from './peer-headers.js';
import { peerEndpoint, type PeerTlsSource } from './peer-request.js';
import { PeerStats, type PeerStatsSnapshot } from './peer-stats.js';
import { PeerSocketThread } from './peer-socket-thread.js';
import type { ThreadTls } from './peer-socket-protocol.js';
import { PeerStreamWriter } from './peer-stream-writer.js';
import { sendSnapshot, type SnapshotFile, type SnapshotSource } from './snapshot-sender.js';
import { receiveSnapshot } from './snapshot-receiver.js';
import { PeerProber, type ProbeTimings } from './peer-prober.js';
import { RAW_STREAM_UPGRADE, receiveRawStream, receiveStream, type StreamReceiverContext } from './stream-receiver.js';
import { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from './transport-limits.js';
import { TransportError } from './transport-errors.js';

/** Options of a {@link PeerTransport}. */
export interface PeerTransportOptions {
  /** This member's ID. */
  localId: NodeId;
  /** The cluster ID (hex) every peer request must carry. */
  clusterId: string;
  /** Where received snapshot files are written (must exist, same file system as their final use). */
  snapshotDir: string;
  /** Produces the file behind an outgoing MsgSnap; without it every MsgSnap fails. */
  snapshotSource?: SnapshotSource;
  /** True for IDs removed from the cluster; their requests are answered 410. */
  /** Throws when a received snapshot file cannot be installed (not a state database): refused with 400 before raft sees it. */
  checkSnapshotFile?: (path: string) => void;
  /** Reads a received snapshot file before raft gets its MsgSnap; rejects when it cannot be installed (refused with 400). */
  prepareSnapshotFile?: (path: string) => Promise<void>;
  /** The applied index: received snapshot files at or below it can never be installed, and are removed. */
  appliedIndex?: () => number;
  /** True when `id` is a member (peer requests from anyone else are refused with 404, as etcd's). */
  isMember?: (id: NodeId) => boolean;
  isRemoved?: (id: NodeId) => boolean;
  logger?: Logger;
  /** TLS client settings for https peer URLs (a function: read at every connection, so reloads apply). */
  tls?: PeerTlsSource;
  limits?: Partial<TransportLimits>;
  /** Source of backoff jitter in [0, 1); Math.random by default. */
  random?: () => number;
  /** Monotonic clock in ms for latency; performance.now by default. */
  nowMs?: () => number;
  /** Each heartbeat round trip to a peer, in ms, as it is measured (the per-peer summary is in stats()). */
  onRoundTrip?: (peer: NodeId, ms: number) => void;
  /** Probes every peer (peer-prober.ts) and gives each sample of its smoothed round trip, in seconds. */
  onProbeSample?: (peer: NodeId, seconds: number) => void;
  /** The prober's timings (etcd's by default). */
  probeTimings?: ProbeTimings;
  /** Dial and write the outgoing streams on a thread of their own (peer-socket-thread.ts). */
  socketThread?: boolean;
  /** For https peers on that thread: the TLS settings in a form that crosses threads (else they are dialled here). */
  threadTls?: () => ThreadTls | undefined;
}

interface Peer {
  writer: PeerStreamWriter;
  stats: PeerStats;
  /** The outgoing snapshot transfer, if one runs. */
  snapshot: AbortController | undefined;
}

const NOOP_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The node:http server options a peer listener needs: streams live for hours, so no request timeout. */
export const PEER_SERVER_OPTIONS = Object.freeze({ requestTimeout: 0, headersTimeout: 10_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 });

/** The peer transport; see the module comment. */
export class PeerTransport {
  private readonly limits: TransportLimits;
  private readonly logger: Logger;
  private readonly identity: LocalIdentity;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly inboundStreams = new Map<NodeId, Duplex>();
  private readonly inboundSnapshots = new Set<IncomingMessage>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly pendingUnreachable = new Set<NodeId>();
  private messageListener: ((m: Message) => void) | undefined;
  private unreachableListener: ((id: NodeId) => void) | undefined;
  private snapshotListener: ((id: NodeId, status: SnapshotStatus) => void) | undefined;
  private removedListener: ((by: NodeId) => void) | undefined;
  private closed = false;
  private readonly nowMs: () => number;
  private readonly prober: PeerProber | undefined;
  private readonly socketThread: PeerSocketThread | undefined;

  constructor(private readonly opts: PeerTransportOptions) {
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...opts.limits };
    this.logger = opts.logger ?? NOOP_LOGGER;
    this.nowMs = opts.nowMs ?? (() => performance.now());
    const isRemoved = opts.isRemoved ?? (() => false);
    this.socketThread = opts.socketThread === true ? new PeerSocketThread(this.logger, opts.threadTls) : undefined;
    this.identity = { localId: opts.localId, clusterId: opts.clusterId, isRemoved, ...(opts.isMember !== undefined ? { isMember: opts.isMember } : {}) };
    const onSample = opts.onProbeSample;
    this.prober = onSample === undefined ? undefined : new PeerProber({
      onSample, nowMs: this.nowMs, ...(opts.tls !== undefined ? { tls: opts.tls } : {}), ...(opts.probeTimings !== undefined ? { timings: opts.probeTimings } : {}),
    });
  }

  /** Sets the receiver of every message from peers (the raft loop steps it into the node). */
  onMessage(fn: (m: Message) => void): void {
    this.messageListener = fn;
  }

  /** Sets the receiver of "messages to this peer were lost" reports (→ `node.reportUnreachable`). */
  onUnreachable(fn: (id: NodeId) => void): void {
    this.unreachableListener = fn;
  }

  /** Sets the receiver of snapshot transfer outcomes (→ `node.reportSnapshot`). */
  onSnapshotStatus(fn: (id: NodeId, status: SnapshotStatus) => void): void {
    this.snapshotListener = fn;
  }

  /** Sets the receiver of "peer `by` says this member was removed" (it answered 410). */
  onRemoved(fn: (by: NodeId) => void): void {
    this.removedListener = fn;
  }

  /** Starts talking to a peer; an existing peer gets its URLs updated; the local ID is ignored. */
  addPeer(id: NodeId, peerUrls: readonly string[]): void {
    if (this.closed || id === this.opts.localId) return;
    this.prober?.set(id, peerUrls);
    const existing = this.peers.get(id);
    if (existing !== undefined) return existing.writer.setUrls(peerUrls);
    const stats = new PeerStats(id, this.nowMs, this.opts.onRoundTrip);
    const writer = new PeerStreamWriter({
      localId: this.opts.localId,
      peerId: id,
      clusterId: this.opts.clusterId,
      urls: peerUrls,
      limits: this.limits,
      stats,
      tls: this.opts.tls,
      logger: this.logger,
      random: this.opts.random ?? Math.random,
      onUnreachable: () => this.reportUnreachable(id),
      onRemoved: () => this.removedListener?.(id),
      ...(this.socketThread !== undefined ? { dialer: this.socketThread } : {}),
    });
    this.peers.set(id, { writer, stats, snapshot: undefined });
  }

  /** Changes a known peer's URLs (reconnecting if the one in use went away). */
  updatePeer(id: NodeId, peerUrls: readonly string[]): void {
    if (this.peers.has(id)) this.prober?.set(id, peerUrls);
    this.peers.get(id)?.writer.setUrls(peerUrls);
  }

  /** Stops talking to a peer: its streams and snapshot transfers are cut, its stats dropped. */
  removePeer(id: NodeId): void {
    this.prober?.remove(id);
    const peer = this.peers.get(id);
    if (peer !== undefined) {
      this.peers.delete(id);
      peer.writer.close();
      peer.snapshot?.abort();
    }
    this.inboundStreams.get(id)?.destroy();
  }

  /** How many peers are added and not removed. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** IDs of the peers added and not removed. */
  peerIds(): NodeId[] {
    return [...this.peers.keys()];
  }

  /**
   * Sends messages to their peers: MsgSnap on a transfer of its own, the rest on the streams,
   * written to each peer's socket (one frame per peer) before this returns.
   */
  send(messages: Message[]): void {
    const touched = new Set<PeerStreamWriter>();
    for (const m of messages) {
      if (m.type === MessageType.MsgSnap) {
        this.startSnapshot(m);
        continue;
      }
      const peer = this.peers.get(m.to);
      if (peer === undefined || !peer.writer.send(m)) this.reportUnreachable(m.to);
      else touched.add(peer.writer);
    }
    for (const writer of touched) writer.flush();
  }

  /**
   * Since when (in this transport's clock, see `nowMs`) a peer has been reachable both ways, or
   * undefined when it is not reachable now or is unknown: etcd's `ActiveSince`.
   */
  activeSince(id: NodeId): number | undefined {
    // Three keepalive intervals of silence, so one late frame on a busy machine is not a death.
    return this.peers.get(id)?.stats.activeSince(3 * this.limits.keepaliveIntervalMs);
  }

  /**
   * How many ms ago a peer was last heard from while both streams with it are up (ours to it
   * connected, its to us open); undefined when either is down or it was never heard. A peer that
   * died closes its streams at once; one that stands still (paused) falls silent.
   */
  heardAgo(id: NodeId): number | undefined {
    const stats = this.peers.get(id)?.stats;
    if (stats === undefined || !stats.connected || stats.inboundConnections === 0 || stats.lastHeardMs === undefined) return undefined;
    return this.nowMs() - stats.lastHeardMs;
  }

  /** This transport's clock (ms), the one {@link activeSince} answers in. */
  now(): number {
    return this.nowMs();
  }

  /** Per-peer statistics of every added peer. */
  stats(): PeerStatsSnapshot[] {
    return [...this.peers.values()].map((p) => ({ ...p.stats.snapshot(), queuedMessages: p.writer.queuedMessages }));
  }

  /**
   * The node:http handler for the peer listener; mount it for paths under `/raft` (it answers
   * 404 for other paths itself).
   */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/raft/stream' && path !== '/raft/snapshot') return refuse(res, 404, `no peer endpoint at ${path}`);
    if (req.method !== 'POST') return refuse(res, 405, `${path} accepts POST only`);
    if (this.closed) return refuse(res, 503, 'member is shutting down');
    const from = checkPeerRequest(req, res, this.identity);
    if (from === undefined) return;
    if (path === '/raft/stream') this.acceptStream(req, res, from);
    else this.acceptSnapshot(req, res, from);
  };

  /**
   * The node:http 'upgrade' listener for the peer listener: a `GET /raft/stream` asking for
   * {@link RAW_STREAM_UPGRADE} becomes a stream of raw frames (anything else asking to upgrade is
   * refused; node:http would otherwise drop it without an answer). Returns the status answered.
   */
  readonly upgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer): number => {
    const checked = this.upgradeCheck(req);
    if ('refusal' in checked) {
      refuseRaw(socket, checked.refusal.status, checked.refusal.message);
      return checked.refusal.status;
    }
    this.trackInbound(checked.from, socket);
    receiveRawStream(socket, head, checked.from, this.receiverContext());
    return 101;
  };

  private upgradeCheck(req: IncomingMessage): ReturnType<typeof peerRequestCheck> {
    const path = (req.url ?? '/').split('?')[0];
    const refused = (status: number, message: string) => ({ refusal: { status, message } });
    if (path !== '/raft/stream') return refused(404, `no peer endpoint at ${path}`);
    if (String(req.headers.upgrade).toLowerCase() !== RAW_STREAM_UPGRADE) return refused(400, `${path} upgrades to ${RAW_STREAM_UPGRADE} only`);
    if (req.method !== 'GET') return refused(405, `${path} upgrades with GET only`);
    if (this.closed) return refused(503, 'member is shutting down');
    return peerRequestCheck(req, this.identity);
  }

  /** Cuts every connection and transfer, stops all timers, and waits for temp files to be removed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.peers.keys()]) this.removePeer(id);
    this.prober?.close();
    for (const socket of this.inboundStreams.values()) socket.destroy();
    for (const req of this.inboundSnapshots) req.destroy();
    await Promise.allSettled([...this.tasks, this.socketThread?.close()]);
  }

  private acceptStream(req: IncomingMessage, res: ServerResponse, from: NodeId): void {
    this.trackInbound(from, req.socket);
    receiveStream(req, res, from, this.receiverContext());
  }

  /** Keeps exactly one inbound stream per peer: a reconnecting peer abandoned its old one. */
  private trackInbound(from: NodeId, socket: Duplex): void {
    this.inboundStreams.get(from)?.destroy();
    this.inboundStreams.set(from, socket);
    const stats = this.peers.get(from)?.stats;
    if (stats) stats.inboundConnections++;
    socket.once('close', () => {
      if (stats) stats.inboundConnections--;
      if (this.inboundStreams.get(from) === socket) this.inboundStreams.delete(from);
    });
  }

  private receiverContext(): StreamReceiverContext {
    return {
      localId: this.opts.localId,
      maxFrameBytes: this.limits.maxFrameBytes,
      logger: this.logger,
      deliver: (peer, messages, bytes) => this.deliver(peer, messages, bytes),
      heard: (peer) => this.peers.get(peer)?.stats.heard(),
    };
  }

  private deliver(from: NodeId, messages: Message[], bytes: number): void {
    const stats = this.peers.get(from)?.stats;
    if (stats !== undefined) {
      stats.messagesReceived += messages.length;
      stats.bytesReceived += bytes;
      stats.framesReceived++;
    }
    for (const m of messages) {
      if (m.type === MessageType.MsgHeartbeatResp) stats?.heartbeatAnswered();
      this.messageListener?.(m);
    }
  }

  private acceptSnapshot(req: IncomingMessage, res: ServerResponse, from: NodeId): void {
    if (this.inboundSnapshots.size >= this.limits.maxIncomingSnapshots) {
      return refuse(res, 503, `already receiving ${this.inboundSnapshots.size} snapshots`);
    }
    this.inboundSnapshots.add(req);
    this.track(receiveSnapshot(req, res, from, {
      localId: this.opts.localId,
      snapshotDir: this.opts.snapshotDir,
      maxSnapshotBytes: this.limits.maxSnapshotBytes,
      idleTimeoutMs: this.limits.snapshotIdleTimeoutMs,
      logger: this.logger,
      deliver: (m) => {
        const stats = this.peers.get(from)?.stats;
        if (stats) stats.messagesReceived++;
        this.messageListener?.(m);
      },
      onBytes: (n) => {
        const stats = this.peers.get(from)?.stats;
        if (stats) stats.bytesReceived += n;
      },
      ...(this.opts.checkSnapshotFile !== undefined ? { checkFile: this.opts.checkSnapshotFile } : {}),
      ...(this.opts.prepareSnapshotFile !== undefined ? { prepareFile: this.opts.prepareSnapshotFile } : {}),
      ...(this.opts.appliedIndex !== undefined ? { appliedIndex: this.opts.appliedIndex } : {}),
    }).finally(() => this.inboundSnapshots.delete(req)));
  }

  private startSnapshot(m: Message): void {
    const peer = this.peers.get(m.to);
    const source = this.opts.snapshotSource;
    if (peer === undefined || source === undefined || this.closed) {
      this.logger.warn('cannot send snapshot', { peer: m.to, reason: peer === undefined ? 'unknown peer' : 'no snapshot source' });
      queueMicrotask(() => this.snapshotListener?.(m.to, SnapshotStatus.Failure));
      return;
    }
    if (peer.snapshot !== undefined) {
      // raft waits for the outcome of a transfer before sending another; this one is redundant.
      this.logger.debug('snapshot transfer already running', { peer: m.to });
      return;
    }
    const abort = new AbortController();
    peer.snapshot = abort;
    this.track(this.transferSnapshot(m, peer, source, abort.signal).then((status) => {
      if (peer.snapshot === abort) peer.snapshot = undefined;
      if (!abort.signal.aborted) this.snapshotListener?.(m.to, status);
    }));
  }

  private async transferSnapshot(m: Message, peer: Peer, source: SnapshotSource, signal: AbortSignal): Promise<SnapshotStatus> {
    let file: SnapshotFile | undefined;
    try {
      file = await source.open(m);
      if (file.sizeBytes > this.limits.maxSnapshotBytes) {
        throw new TransportError('ERR_SNAPSHOT_TOO_LARGE', `snapshot of ${file.sizeBytes} bytes exceeds the limit of ${this.limits.maxSnapshotBytes}`);
      }
      const started = this.nowMs();
      await sendSnapshot({
        url: peerEndpoint(peer.writer.currentUrl, '/raft/snapshot'),
        headers: peerHeaders(this.opts.clusterId, this.opts.localId, m.to),
        tls: this.opts.tls,
        message: m,
        file,
        chunkBytes: this.limits.snapshotChunkBytes,
        idleTimeoutMs: this.limits.snapshotIdleTimeoutMs,
        signal,
        onBytes: (n) => { peer.stats.bytesSent += n; },
      });
      peer.stats.messagesSent++;
      this.logger.info('sent snapshot', { peer: m.to, bytes: file.sizeBytes, ms: Math.round(this.nowMs() - started) });
      return SnapshotStatus.Finish;
    } catch (err) {
      peer.stats.messagesDropped++;
      this.logger.warn('snapshot transfer failed', { peer: m.to, error: err instanceof Error ? err.message : String(err) });
      return SnapshotStatus.Failure;
    } finally {
      if (file !== undefined) this.releaseSnapshot(source, file, m);
    }
  }

  private releaseSnapshot(source: SnapshotSource, file: SnapshotFile, m: Message): void {
    try {
      source.release?.(file, m);
    } catch (err) {
      this.logger.error('snapshot release failed', { path: file.path, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Coalesces unreachable reports and delivers them after the current synchronous run. */
  private reportUnreachable(id: NodeId): void {
    if (this.pendingUnreachable.size === 0) {
      queueMicrotask(() => {
        const ids = [...this.pendingUnreachable];
        this.pendingUnreachable.clear();
        if (this.closed) return;
        for (const peer of ids) this.unreachableListener?.(peer);
      });
    }
    this.pendingUnreachable.add(id);
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }
}
