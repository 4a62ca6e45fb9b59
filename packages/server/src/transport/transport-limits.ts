/** Sizes and timeouts of the peer transport, with the defaults a production member uses. */
import type { StreamWriterLimits } from './peer-stream-writer.js';

/** Every limit of a {@link PeerTransport}; pass a partial object to override some. */
export interface TransportLimits extends StreamWriterLimits {
  /** Largest frame payload a receiver accepts; a larger announced length drops the connection. */
  maxFrameBytes: number;
  /** Largest snapshot file sent or received. */
  maxSnapshotBytes: number;
  /** Read size when streaming a snapshot file. */
  snapshotChunkBytes: number;
  /** A snapshot transfer with no progress for this long fails, on both ends. */
  snapshotIdleTimeoutMs: number;
  /** Inbound snapshot transfers accepted at once; more are answered 503. */
  maxIncomingSnapshots: number;
}

/** The defaults; see each field of {@link TransportLimits}. */
export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  maxMessages: 4096,
  maxBytes: 16 * 1024 * 1024,
  maxUrgentMessages: 1024,
  frameTargetBytes: 1024 * 1024,
  backoffMinMs: 50,
  backoffMaxMs: 2_000,
  connectTimeoutMs: 5_000,
  stallTimeoutMs: 15_000,
  keepaliveIntervalMs: 1_000,
  maxFrameBytes: 64 * 1024 * 1024,
  maxSnapshotBytes: 8 * 1024 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  snapshotIdleTimeoutMs: 30_000,
  maxIncomingSnapshots: 4,
});
