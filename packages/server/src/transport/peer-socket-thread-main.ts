/**
 * The peer socket thread: dials the member's outgoing peer streams and writes the frames the
 * consensus thread sends it (see peer-socket-thread.ts). It keeps no raft state: a stream here is
 * a socket, its dial and its backpressure.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { createSecureContext } from 'node:tls';
import { parentPort } from 'node:worker_threads';
import { identityCheck } from '../tls/tls-policy.js';
import { LocalDialer, type DialHandle, type FrameSocket } from './stream-dialer.js';
import type { FromSocketThread, ThreadTls, ToSocketThread } from './peer-socket-protocol.js';
import type { PeerTlsOptions } from './peer-request.js';

const port = parentPort!;
const dialer = new LocalDialer();
const streams = new Map<number, { handle: DialHandle; socket: FrameSocket | undefined; full: boolean }>();
const post = (m: FromSocketThread): void => port.postMessage(m);

port.on('message', (m: ToSocketThread) => {
  switch (m.t) {
    case 'dial':
      return dial(m.id, m.url, m.headers, m.tls);
    case 'write': {
      let at = 0;
      for (let i = 0; i < m.parts.length; i += 2) {
        const id = m.parts[i]!;
        const length = m.parts[i + 1]!;
        const s = streams.get(id);
        if (s?.socket !== undefined && !s.socket.write(m.bytes.subarray(at, at + length)) && !s.full) {
          s.full = true;
          post({ t: 'full', id });
        }
        at += length;
      }
      return;
    }
    case 'destroy': {
      const s = streams.get(m.id);
      streams.delete(m.id);
      s?.handle.destroy();
      return;
    }
  }
});

/** The settings `tls` describes, as the consensus thread's own dials use them (tls-side.ts). */
function clientTls(tls: ThreadTls | undefined): PeerTlsOptions | undefined {
  if (tls === undefined) return undefined;
  const check = identityCheck(tls.allowedCn);
  return { secureContext: createSecureContext(tls.options), ...(check !== undefined ? { checkServerIdentity: check } : {}) };
}

function dial(id: number, url: string, headers: OutgoingHttpHeaders, tls: ThreadTls | undefined): void {
  const entry: { handle: DialHandle; socket: FrameSocket | undefined; full: boolean } = { handle: { destroy() {} }, socket: undefined, full: false };
  streams.set(id, entry);
  const ended = (): boolean => streams.get(id) !== entry;
  // The request and socket go with the entry, as the consensus thread's writer destroys its own.
  const end = (): void => {
    if (streams.get(id) === entry) streams.delete(id);
    entry.handle.destroy();
  };
  try {
    entry.handle = dialer.dial(new URL(url), headers, clientTls(tls), {
      upgraded: (socket) => {
        if (ended()) return socket.destroy();
        entry.socket = socket;
        post({ t: 'upgraded', id });
      },
      refused: (status, message) => {
        if (!ended()) post({ t: 'refused', id, status, message });
        end();
      },
      failed: (err) => {
        if (!ended()) post({ t: 'failed', id, message: err.message });
        end();
      },
      drain: () => {
        if (ended() || !entry.full) return;
        entry.full = false;
        post({ t: 'drain', id });
      },
    });
  } catch (err) {
    streams.delete(id);
    post({ t: 'failed', id, message: (err as Error).message });
  }
}
