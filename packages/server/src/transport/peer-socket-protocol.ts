/** The messages between the consensus thread and the peer socket thread (peer-socket-thread.ts). */
import type { OutgoingHttpHeaders } from 'node:http';
import type { SecureContextOptions } from 'node:tls';

/**
 * The TLS client settings of a stream dialled on the thread, in a form that crosses threads (a
 * secure context and an identity-check function do not): the certificate material, and the CN the
 * peer's certificate must carry, if any. Read at every dial, so a reload (SIGHUP) applies.
 */
export interface ThreadTls {
  options: SecureContextOptions;
  allowedCn?: string;
}

/** Consensus thread → socket thread. */
export type ToSocketThread =
  | { t: 'dial'; id: number; url: string; headers: OutgoingHttpHeaders; tls?: ThreadTls }
  /**
   * Bytes for several streams, in one buffer (transferred, not copied): `parts` holds a stream id
   * and a length for each run of bytes, in order.
   */
  | { t: 'write'; parts: number[]; bytes: Uint8Array }
  | { t: 'destroy'; id: number };

/** Socket thread → consensus thread. */
export type FromSocketThread =
  | { t: 'upgraded'; id: number }
  | { t: 'refused'; id: number; status: number; message: string }
  | { t: 'failed'; id: number; message: string }
  /** The socket is backed up (a write returned false). */
  | { t: 'full'; id: number }
  | { t: 'drain'; id: number };
