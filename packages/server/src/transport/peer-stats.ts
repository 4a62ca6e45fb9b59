/**
 * Per-peer counters and round-trip latency, the raw material of /v2/stats/leader. Latency is the
 * time from a MsgHeartbeat this member sent to the next MsgHeartbeatResp from that peer: the
 * heartbeat round the raft core already runs, observed instead of adding a ping of our own.
 */
import type { NodeId } from '@deimos/protocol';

/** Latency summary in milliseconds, as etcd's follower stats show it. */
export interface LatencyStats {
  current: number;
  average: number;
  standardDeviation: number;
  minimum: number;
  maximum: number;
}

/** A point-in-time copy of one peer's transport statistics. */
export interface PeerStatsSnapshot {
  id: NodeId;
  /** True while the outgoing stream to the peer is established. */
  connected: boolean;
  /** True while the peer holds a stream open to this member. */
  inboundConnected: boolean;
  messagesSent: number;
  bytesSent: number;
  /** Stream frames written; well below `messagesSent` when batching works. */
  framesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  framesReceived: number;
  /** Messages waiting in the send queue (filled in by the transport). */
  queuedMessages: number;
  /** Messages dropped (peer down, queue full, connection lost). */
  messagesDropped: number;
  /** Connection attempts that failed or connections that broke. */
  connectFailures: number;
  /** etcd-style counts, in etcd's field order: messages dropped, and messages written to the peer's stream. */
  counts: { fail: number; success: number };
  /** Heartbeat round-trip latency; until the first sample all zero but `minimum` (see {@link NO_SAMPLE_MINIMUM}). */
  latency: LatencyStats;
  /** Number of latency samples behind `latency`. */
  latencySamples: number;
}

/**
 * The `minimum` shown before any sample: etcd starts it at 2^63 (as a float64, which Go writes
 * `9223372036854775808`: see the stats route), so a follower never reached shows that rather than a 0
 * that looks measured.
 */
export const NO_SAMPLE_MINIMUM = 2 ** 63;

/** Mutable statistics of one peer; the transport updates it, {@link PeerStats.snapshot} reads it. */
export class PeerStats {
  /** Set by the stream writer; use {@link PeerStats.setConnected} so `connectedSinceMs` follows. */
  connected = false;
  /** When the outgoing stream last became connected; undefined while it is not. */
  connectedSinceMs: number | undefined;
  /** When the last frame (keepalives included) arrived from the peer; undefined before any. */
  lastHeardMs: number | undefined;
  inboundConnections = 0;
  messagesSent = 0;
  bytesSent = 0;
  framesSent = 0;
  messagesReceived = 0;
  bytesReceived = 0;
  framesReceived = 0;
  messagesDropped = 0;
  connectFailures = 0;
  private heartbeatSentAtMs = -1;
  private samples = 0;
  private currentMs = 0;
  private sumMs = 0;
  private sumSquaresMs = 0;
  private minMs = Infinity;
  private maxMs = 0;

  constructor(readonly id: NodeId, private readonly nowMs: () => number, private readonly onRoundTrip?: (peer: NodeId, ms: number) => void) {}

  /** Records the outgoing stream's state, and since when it is connected. */
  setConnected(connected: boolean): void {
    if (connected && !this.connected) this.connectedSinceMs = this.nowMs();
    if (!connected) this.connectedSinceMs = undefined;
    this.connected = connected;
  }

  /** Notes a frame from the peer: it is alive and its stream to us works. */
  heard(): void {
    this.lastHeardMs = this.nowMs();
  }

  /**
   * Since when the peer has been reachable both ways: our stream to it connected, and a frame from
   * it within `silenceMs` (peers send a keepalive frame on an idle stream, so a stopped or cut-off
   * peer falls silent). Undefined when it is not reachable now.
   */
  activeSince(silenceMs: number): number | undefined {
    if (this.connectedSinceMs === undefined || this.lastHeardMs === undefined) return undefined;
    return this.nowMs() - this.lastHeardMs <= silenceMs ? this.connectedSinceMs : undefined;
  }

  /** Notes a MsgHeartbeat handed to the peer's stream; only the oldest unanswered one counts. */
  heartbeatSent(): void {
    if (this.heartbeatSentAtMs < 0) this.heartbeatSentAtMs = this.nowMs();
  }

  /** Notes a MsgHeartbeatResp from the peer, closing the round trip if one is open. */
  heartbeatAnswered(): void {
    if (this.heartbeatSentAtMs < 0) return;
    const ms = this.nowMs() - this.heartbeatSentAtMs;
    this.recordLatency(ms);
    this.onRoundTrip?.(this.id, ms);
    this.heartbeatSentAtMs = -1;
  }

  /** Forgets an open round trip (its heartbeat was dropped, so no answer is coming). */
  heartbeatLost(): void {
    this.heartbeatSentAtMs = -1;
  }

  /** Adds one latency sample in milliseconds. */
  recordLatency(ms: number): void {
    this.samples++;
    this.currentMs = ms;
    this.sumMs += ms;
    this.sumSquaresMs += ms * ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Copies the statistics out. */
  snapshot(): PeerStatsSnapshot {
    const n = this.samples;
    const average = n === 0 ? 0 : this.sumMs / n;
    const variance = n === 0 ? 0 : Math.max(0, this.sumSquaresMs / n - average * average);
    return {
      id: this.id,
      connected: this.connected,
      inboundConnected: this.inboundConnections > 0,
      messagesSent: this.messagesSent,
      bytesSent: this.bytesSent,
      framesSent: this.framesSent,
      messagesReceived: this.messagesReceived,
      bytesReceived: this.bytesReceived,
      framesReceived: this.framesReceived,
      queuedMessages: 0,
      messagesDropped: this.messagesDropped,
      connectFailures: this.connectFailures,
      counts: { fail: this.messagesDropped, success: this.messagesSent },
      latency: {
        current: this.currentMs,
        average,
        standardDeviation: Math.sqrt(variance),
        minimum: n === 0 ? NO_SAMPLE_MINIMUM : this.minMs,
        maximum: this.maxMs,
      },
      latencySamples: n,
    };
  }
}
