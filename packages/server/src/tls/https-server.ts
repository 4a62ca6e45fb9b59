/**
 * An https listener for one side: the side's TLS options, reloaded in place, the peer CN rule, and
 * a plain-HTTP request answered with a 400 that says why (as Go's servers do) instead of a reset.
 */
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { RequestListener } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../util/logger.js';
import { LogThrottle } from '../util/log-throttle.js';
import { PeerSanCheck } from './peer-san-check.js';
import { refusePlainHttp as refusePlainHttpOn } from '@deimos/net';
import { certificateCn } from './tls-policy.js';
import type { TlsSide } from './tls-side.js';

/** Every TCP connection of each https server, handshaking ones included (node:http knows only the rest). */
const rawConnections = new WeakMap<NetServer, Set<Socket>>();
/**
 * The remote address of each raw connection, taken when it arrives: a handshake refused for an
 * untrusted certificate is reported after node destroyed the socket, when it knows no address.
 */
const remoteOf = new WeakMap<Socket, string>();

/** Where a TLS connection came from, also once it is destroyed (its raw socket is `_parent`). */
function remoteAddressOf(socket: TLSSocket): string {
  const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
  return (raw !== undefined ? remoteOf.get(raw) : undefined) ?? socket.remoteAddress ?? '';
}

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
  // A refused peer is an operator's problem worth a warning, but one retrying (every backoff) would
  // fill the log: one line per 10 s, with how many were left out. Refused clients could flood it.
  const peerWarnings = new LogThrottle(logger, 10_000);
  refusePlainHttp(server);
  if (side.side === 'peer' && side.files.clientCertAuth) {
    // The certificate must name the address the member connects from (etcd's check), decided before
    // node:http reads a request (see PeerSanCheck).
    const sans = new PeerSanCheck();
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const remote = remoteAddressOf(socket);
      const verdict = sans.check(socket.getPeerCertificate(), remote);
      if (verdict.ok) return;
      if (verdict.retry) logger.debug('refused a peer connection until its certificate\'s names are resolved', { remote, reason: verdict.problem });
      else peerWarnings.warn('rejected peer connection', { remote, error: `certificate does not match the connection: ${verdict.problem}` });
      socket.destroy();
    });
  }
  const allowedCn = side.files.allowedCn;
  if (allowedCn !== undefined) {
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const cn = certificateCn(socket.getPeerCertificate());
      if (cn === allowedCn) return;
      logger.warn(`rejected ${side.side} connection`, { remote: remoteAddressOf(socket), error: `certificate CN "${cn}" is not the allowed "${allowedCn}"` });
      socket.destroy();
    });
  }
  server.prependListener('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const fields = { remote: remoteAddressOf(socket), error: handshakeFailure(err, socket) };
    if (side.side === 'peer') peerWarnings.warn('rejected peer connection', fields);
    else logger.debug(`rejected ${side.side} connection`, fields);
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

/** Every raw connection of `server` is tracked (see destroyTlsConnections), then plain HTTP refused. */
function refusePlainHttp(server: Server): void {
  const sockets = new Set<Socket>();
  rawConnections.set(server, sockets);
  refusePlainHttpOn(server, (socket) => {
    sockets.add(socket);
    if (socket.remoteAddress !== undefined) remoteOf.set(socket, socket.remoteAddress);
    socket.once('close', () => sockets.delete(socket));
  });
}
