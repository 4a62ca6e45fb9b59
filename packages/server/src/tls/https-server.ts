/**
 * An https listener for one side: the side's TLS options, reloaded in place, the peer CN rule, and
 * a plain-HTTP request answered with a 400 that says why (as Go's servers do) instead of a reset.
 */
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { RequestListener } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../util/logger.js';
import { certificateCn, TLS_HANDSHAKE_TIMEOUT_MS } from './tls-policy.js';
import type { TlsSide } from './tls-side.js';

/** First byte of a TLS handshake record; anything else is not TLS. */
const TLS_HANDSHAKE_RECORD = 0x16;

const PLAIN_HTTP_REFUSAL = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/** Every TCP connection of each https server, handshaking ones included (node:http knows only the rest). */
const rawConnections = new WeakMap<NetServer, Set<Socket>>();

/**
 * Destroys every connection of an https server made here, including those still in the TLS
 * handshake, which `closeAllConnections()` does not see (they would hold `close()` until the
 * handshake timeout).
 */
export function destroyTlsConnections(server: NetServer): void {
  for (const socket of rawConnections.get(server) ?? []) socket.destroy();
}

/** Creates (does not start) an https server for `side` with the node:http `httpOptions`. */
export function createHttpsServer(side: TlsSide, httpOptions: ServerOptions, handler: RequestListener, logger: Logger): Server {
  const server = createServer({ ...httpOptions, ...side.serverOptions() }, handler);
  side.onReload((options) => server.setSecureContext(options));
  refusePlainHttp(server);
  const allowedCn = side.files.allowedCn;
  if (allowedCn !== undefined) {
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const cn = certificateCn(socket.getPeerCertificate());
      if (cn === allowedCn) return;
      logger.warn(`rejected ${side.side} connection`, { remote: socket.remoteAddress ?? '', error: `certificate CN "${cn}" is not the allowed "${allowedCn}"` });
      socket.destroy();
    });
  }
  // First, while the socket still knows its remote address (node then passes it to 'clientError').
  server.prependListener('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // A refused peer is an operator's problem worth a warning; refused clients could flood the log.
    const log = side.side === 'peer' ? logger.warn : logger.debug;
    log.call(logger, `rejected ${side.side} connection`, { remote: socket.remoteAddress ?? '', error: handshakeFailure(err, socket) });
  });
  return server;
}

/**
 * Why a handshake failed, in words: the certificate verification code when the other side's
 * certificate was refused (node reports only "socket hang up" then), else OpenSSL's reason.
 */
function handshakeFailure(err: NodeJS.ErrnoException, socket: TLSSocket): string {
  if (socket.authorizationError) return `certificate not trusted: ${String(socket.authorizationError)}`;
  if (err.code?.startsWith('ERR_SSL_')) return err.code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ');
  return err.message.split('\n')[0]!;
}

/**
 * Looks at the first byte of each connection before the TLS layer sees it: a TLS handshake goes
 * on to the server's own connection handling (its documented injection point), anything else gets
 * the 400. Connections that send nothing are closed after the handshake timeout.
 */
function refusePlainHttp(server: Server): void {
  const tlsHandlers = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const sockets = new Set<Socket>();
  rawConnections.set(server, sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
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
