/** The member's HTTP listeners: the client API on every client URL, raft traffic on every peer URL. */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../util/logger.js';
import { PEER_SERVER_OPTIONS } from '../transport/index.js';
import { createHttpsServer, destroyTlsConnections } from '../tls/https-server.js';
import type { TlsSide } from '../tls/tls-side.js';
import { serveConnectionsFirst, type FastHandler, type LoopConnections } from '../http/fast-connection.js';
import type { ConnectionGate } from '../http/connection-gate.js';
import { LogThrottle } from '../util/log-throttle.js';
import { goRequestRefusal } from '@deimos/protocol';
import { answerClientErrors, CLIENT_KEEP_ALIVE_MS, CLIENT_MAX_HEADER_BYTES, CLIENT_TCP_KEEPALIVE_MS, orderedRequests } from '@deimos/net';

/** Open listeners and how to close them. */
export interface Listeners {
  close(): Promise<void>;
  /** Stops accepting connections (new ones are refused); those open are served until `close`. */
  stopAccepting?(): void;
}

/** Least time between two warnings about failed accepts on one listener. */
const ACCEPT_WARNING_INTERVAL_MS = 10_000;

/**
 * Starts listening. Once listening, an 'error' from the server is a failed accept (EMFILE, ENFILE,
 * ENOBUFS...): node emits it on the server, where without a listener it would end the process.
 * It is logged (throttled) and the listener goes on accepting; when descriptors run out libuv
 * itself closes the pending connections with a descriptor it keeps in reserve.
 */
function listen(server: Server, url: string, logger: Logger): Promise<void> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(Object.assign(new Error(`cannot listen on ${url}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`), { code: err.code ?? 'ERR_LISTEN' }));
    };
    server.once('error', onError);
    server.listen(Number(u.port), host, () => {
      server.off('error', onError);
      const warning = new LogThrottle(logger, ACCEPT_WARNING_INTERVAL_MS);
      server.on('error', (err: NodeJS.ErrnoException) => warning.warn('cannot accept a connection', { url, error: err.message, code: err.code ?? '' }));
      resolve();
    });
  });
}

async function listenEach(urls: readonly string[], make: (url: string) => Server, logger: Logger, gate: ConnectionGate | undefined, intercepted: LoopConnections[] = []): Promise<Listeners> {
  const servers: Server[] = [];
  /** Each server's 'close' (it comes once, after its first close() and its last connection's end). */
  const closed = new Map<Server, Promise<void>>();
  const closing = new Set<Server>();
  const closeOnce = (s: Server): void => {
    if (closing.has(s)) return;
    closing.add(s);
    s.close();
  };
  const close = async () => {
    await Promise.all(servers.map((s) => {
      closeOnce(s);
      s.closeAllConnections();
      destroyTlsConnections(s);
      return closed.get(s);
    }));
  };
  const closeAll = async () => {
    // Connections held outside node:http (parked watches) would keep close() waiting.
    const done = close();
    for (const i of intercepted) i.destroyAll();
    await done;
  };
  try {
    for (const url of urls) {
      const server = make(url);
      // Last, so that it stands in front of every other connection listener.
      gate?.guard(server, { tls: url.startsWith('https://') });
      servers.push(server);
      closed.set(server, new Promise<void>((resolve) => server.once('close', () => resolve())));
      await listen(server, url, logger);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  const stopAccepting = (): void => {
    for (const s of servers) closeOnce(s);
  };
  return { close: closeAll, stopAccepting };
}

/** Time a request may take to arrive (node:http's headersTimeout; the body reader's deadline). */
const CLIENT_REQUEST_ARRIVAL_MS = 30_000;
/**
 * node:http options of the client listener, plain or TLS: the same header bounds and timeouts. A
 * request (head and body) must arrive within the arrival bound, as on the client loop: a body the
 * route ignores (GET /version with a trickled chunked body) is otherwise read and dropped for ever.
 * node:http checks that bound every `connectionsCheckingInterval`. Its Host check is off: Go's
 * answers instead (goRequestRefusal of @deimos/protocol).
 */
const CLIENT_SERVER_OPTIONS: ServerOptions = Object.freeze({
  keepAliveTimeout: CLIENT_KEEP_ALIVE_MS, requestTimeout: CLIENT_REQUEST_ARRIVAL_MS, headersTimeout: CLIENT_REQUEST_ARRIVAL_MS,
  connectionsCheckingInterval: 2_000, maxHeaderSize: CLIENT_MAX_HEADER_BYTES, requireHostHeader: false,
  keepAlive: true, keepAliveInitialDelay: CLIENT_TCP_KEEPALIVE_MS,
});

/** An http or https server by the URL's scheme (https URLs were checked to come with TLS settings). */
function serverFor(url: string, options: ServerOptions, handler: RequestListener, tls: TlsSide | undefined, logger: Logger): Server {
  if (!url.startsWith('https://')) return createServer(options, handler);
  if (tls === undefined) throw Object.assign(new Error(`${url} is https but no certificate is configured`), { code: 'ERR_TLS_CONFIG' });
  return createHttpsServer(tls, options, handler, logger);
}

/** A TLS socket whose handshake did not finish. */
function handshakeUnfinished(socket: Socket): boolean {
  return socket instanceof TLSSocket && socket.getPeerFinished() === undefined;
}

/** Options of {@link listenClients}. */
export interface ClientListenOptions {
  tls?: TlsSide | undefined;
  /** Serves the requests it takes on the connection loop in front of node:http. */
  fastHandler?: FastHandler;
  /** Bounds the connections open across the client URLs. */
  gate?: ConnectionGate;
  /** True while the member stops: answers close their connections (see `ConnectionLoopOptions.draining`). */
  draining?: () => boolean;
}

/** Listens on every client URL with `handler`; on failure closes what was opened and throws. */
export function listenClients(config: ServerConfig, handler: RequestListener, logger: Logger, options: ClientListenOptions = {}): Promise<Listeners> {
  const { tls, fastHandler, gate, draining } = options;
  const intercepted: LoopConnections[] = [];
  const closeWhenDraining: RequestListener = draining === undefined ? handler : (req, res) => {
    if (draining()) res.shouldKeepAlive = false;
    handler(req, res);
  };
  const ordered = orderedRequests(closeWhenDraining, goRequestRefusal);
  return listenEach(config.listenClientUrls, (url) => {
    const server = serverFor(url, CLIENT_SERVER_OPTIONS, ordered.handler, tls, logger);
    // Answer a client that half-closes after its requests, then close (node:http's default drops
    // the requests still being answered at the client's FIN: a write applied but never answered).
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Parse errors and timeouts are answered after the running request (shared with the proxy).
    server.on('clientError', answerClientErrors(ordered, { handshakeUnfinished, debug: (m, f) => logger.debug(m, f) }));
    if (fastHandler) {
      const event = url.startsWith('https://') ? 'secureConnection' : 'connection';
      intercepted.push(serveConnectionsFirst(server, event, fastHandler, { maxBodyBytes: config.maxRequestBytes, keepAliveTimeoutMs: CLIENT_KEEP_ALIVE_MS, requestArrivalMs: CLIENT_REQUEST_ARRIVAL_MS, ...(draining !== undefined ? { draining } : {}) }));
    }
    return server;
  }, logger, gate, intercepted);
}

/** A node:http 'upgrade' listener. */
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Listens on every peer URL with `handler` (and `upgrade` for requests that ask to upgrade: the
 * raft streams); `gate` bounds the connections open across them.
 */
export function listenPeers(config: ServerConfig, handler: RequestListener, logger: Logger, tls?: TlsSide, gate?: ConnectionGate, upgrade?: UpgradeListener): Promise<Listeners> {
  return listenEach(config.listenPeerUrls, (url) => {
    const server = serverFor(url, PEER_SERVER_OPTIONS, (req, res) => {
      req.socket.setTimeout(0);
      handler(req, res);
    }, tls, logger);
    if (upgrade !== undefined) {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        (socket as Socket).setTimeout(0);
        upgrade(req, socket, head);
      });
    }
    // node:http's header bound starts with a connection's first byte: one that sends nothing would
    // hold a place of the peer connection bound for ever (idle sockets could keep the members out).
    server.on(url.startsWith('https://') ? 'secureConnection' : 'connection', (socket: Socket) => socket.setTimeout(PEER_FIRST_REQUEST_MS, () => socket.destroy()));
    return server;
  }, logger, gate);
}

/** How long a new peer connection may take to send its first request (TLS handshake included). */
const PEER_FIRST_REQUEST_MS = 10_000;
