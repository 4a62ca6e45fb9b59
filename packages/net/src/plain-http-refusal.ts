/**
 * A plain-HTTP request on a TLS port answered with a 400 that says why, as Go's servers answer it
 * (etcd and its proxy), instead of a TLS alert or reset that leaves a client puzzling over what went
 * wrong. Shared by the member's https listeners and deimos-proxy's.
 */
import type { Server, Socket } from 'node:net';
import { TLS_HANDSHAKE_TIMEOUT_MS } from './tls-listener-policy.js';

/** First byte of a TLS handshake record; anything else is not TLS. */
const TLS_HANDSHAKE_RECORD = 0x16;

export const PLAIN_HTTP_REFUSAL = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/**
 * Looks at the first byte of each connection of the (TLS) `server` before the TLS layer sees it: a
 * handshake goes on to the server's own connection listeners (its documented injection point),
 * anything else gets the 400. Connections that send nothing are closed after the handshake
 * timeout. `onConnection` sees every raw connection as it arrives. Call it before adding other
 * 'connection' listeners: it takes over the ones already there.
 */
export function refusePlainHttp(server: Server, onConnection?: (socket: Socket) => void): void {
  const tlsHandlers = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    onConnection?.(socket);
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    socket.setTimeout(TLS_HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      if (chunk[0] === TLS_HANDSHAKE_RECORD) {
        socket.pause();
        socket.setTimeout(0);
        socket.unshift(chunk);
        socket.off('error', onError);
        for (const handle of tlsHandlers) handle.call(server, socket);
      } else {
        // Keep reading (and discarding) so that the client's close is seen and the socket ends;
        // the timeout still bounds a client that never closes.
        socket.resume();
        socket.end(PLAIN_HTTP_REFUSAL);
      }
    });
  });
}
