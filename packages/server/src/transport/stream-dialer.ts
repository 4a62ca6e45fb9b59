/**
 * How a peer stream's connection is made and written: the upgrade to a raw frame stream (see
 * stream-receiver.ts) dialled on this thread ({@link LocalDialer}), or on the peer socket thread
 * (peer-socket-thread.ts), which keeps the socket writes (and the receiver's TCP processing the
 * kernel charges to the writer on loopback) off the consensus thread.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { errorMessageOf, openPeerRequest, readSmallBody, type PeerTlsSource } from './peer-request.js';

/** An upgraded stream's write side. */
export interface FrameSocket {
  /** False once the socket is backed up: wait for `drain` before writing more. */
  write(chunk: Uint8Array): boolean;
  /** Writes between cork and uncork leave together. */
  cork(): void;
  uncork(): void;
  destroy(): void;
}

/** What a dial reports, at most one of upgraded/refused/failed first; after `upgraded`, drain and failed. */
export interface DialEvents {
  /** The peer took the stream (101). */
  upgraded(socket: FrameSocket): void;
  /** The peer answered without upgrading: its status and the message of its body. */
  refused(status: number, message: string): void;
  /** The connection failed, was closed or ended, before or after the upgrade. */
  failed(err: Error): void;
  /** A backed-up socket took its queue. */
  drain(): void;
}

/** A dial in progress or an open stream; destroy cuts it, after which no event is reported. */
export interface DialHandle {
  destroy(): void;
}

/** Opens peer streams. */
export interface StreamDialer {
  /** `GET url` asking to upgrade with `headers` (TLS by the URL's scheme). Throws when the URL cannot be dialled. */
  dial(url: URL, headers: OutgoingHttpHeaders, tls: PeerTlsSource | undefined, events: DialEvents): DialHandle;
}

/** Dials on the calling thread. */
export class LocalDialer implements StreamDialer {
  dial(url: URL, headers: OutgoingHttpHeaders, tls: PeerTlsSource | undefined, events: DialEvents): DialHandle {
    const req = openPeerRequest(url, headers, tls, 'GET');
    let done = false;
    let socket: Socket | undefined;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      events.failed(err);
    };
    req.on('upgrade', (_res, upgraded: Socket) => {
      if (done) return void upgraded.destroy();
      socket = upgraded;
      upgraded.setNoDelay(true);
      upgraded.setKeepAlive(true, 2_000);
      upgraded.on('error', fail);
      upgraded.on('close', () => fail(new Error('connection closed')));
      upgraded.on('end', () => fail(new Error('peer ended the stream')));
      upgraded.on('drain', () => {
        if (!done) events.drain();
      });
      // The peer sends nothing on this stream; reading is how its end is seen.
      upgraded.resume();
      events.upgraded(upgraded);
    });
    req.on('response', (res) => {
      if (done) return void res.resume();
      readSmallBody(res, 4096, (body) => {
        if (done) return;
        done = true;
        events.refused(res.statusCode ?? 0, errorMessageOf(body));
      });
    });
    req.on('error', fail);
    // node:http closes the request itself once it handed the socket over.
    req.on('close', () => {
      if (socket === undefined) fail(new Error('connection closed'));
    });
    req.end();
    return {
      destroy: () => {
        done = true;
        req.destroy();
        socket?.destroy();
      },
    };
  }
}
