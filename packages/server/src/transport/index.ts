/** The peer transport: streams of raft messages between members, and snapshot transfers. */
export { PeerTransport, PEER_SERVER_OPTIONS, type PeerTransportOptions } from './peer-transport.js';
export { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from './transport-limits.js';
export type { PeerStatsSnapshot, LatencyStats } from './peer-stats.js';
export type { SnapshotSource, SnapshotFile } from './snapshot-sender.js';
export { currentTls, type PeerTlsOptions, type PeerTlsSource } from './peer-request.js';
export { TransportError, type TransportErrorCode } from './transport-errors.js';
export { receivedSnapshotName, removeIncompleteSnapshots } from './snapshot-receiver.js';
export { encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from './frame-codec.js';
export { HEADER_CLUSTER_ID, HEADER_FROM, HEADER_TO, HEADER_SNAPSHOT_SIZE } from './peer-headers.js';
export { PeerProber, PROBING_PATH, ETCD_PROBE_TIMINGS, type ProbeTimings } from './peer-prober.js';
