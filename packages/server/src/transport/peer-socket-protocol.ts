/** The messages between the consensus thread and the peer socket thread (peer-socket-thread.ts). */
import type { OutgoingHttpHeaders } from 'node:http';

/** Consensus thread → socket thread. */
export type ToSocketThread =
  | { t: 'dial'; id: number; url: string; headers: OutgoingHttpHeaders }
  /** Bytes for the stream `id`, in one buffer (transferred, not copied). */
  | { t: 'write'; id: number; bytes: Uint8Array }
  | { t: 'destroy'; id: number };

/** Socket thread → consensus thread. */
export type FromSocketThread =
  | { t: 'upgraded'; id: number }
  | { t: 'refused'; id: number; status: number; message: string }
  | { t: 'failed'; id: number; message: string }
  /** The socket is backed up (a write returned false). */
  | { t: 'full'; id: number }
  | { t: 'drain'; id: number };
