/**
 * Operational errors of the peer transport, with stable `code`s (check `code` or `instanceof`,
 * never the message text).
 */

/** Stable codes of {@link TransportError}. */
export type TransportErrorCode =
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_PEER_REFUSED'
  | 'ERR_PEER_TIMEOUT'
  /** A peer URL this transport cannot dial (it is kept: the peer counts as unreachable). */
  | 'ERR_PEER_URL'
  | 'ERR_SNAPSHOT_TOO_LARGE'
  | 'ERR_SNAPSHOT_SIZE'
  | 'ERR_SNAPSHOT_CRC'
  | 'ERR_SNAPSHOT_MALFORMED'
  /** The received file is not a state database raft could install. */
  | 'ERR_SNAPSHOT_INVALID'
  | 'ERR_SNAPSHOT_BUSY'
  | 'ERR_TRANSPORT_CLOSED';

/** A peer connection or snapshot transfer failed for a reason worth telling apart. */
export class TransportError extends Error {
  constructor(readonly code: TransportErrorCode, message: string, readonly httpStatus?: number) {
    super(message);
    this.name = 'TransportError';
  }
}
