/**
 * The proxy's composition: listeners, the endpoint pool, discovery, the forwarder and the metrics.
 * {@link startProxy} is what both `deimos-proxy` and `deimos --proxy on|readonly` run, and what
 * each worker of one with `--client-workers N` runs (its member list then comes from the primary).
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import { goRequestRefusal } from '@deimos/protocol';
import { answerClientErrors, CLIENT_KEEP_ALIVE_MS, CLIENT_MAX_HEADER_BYTES, CLIENT_TCP_KEEPALIVE_MS, ConnectionGate, LogThrottle, orderedRequests, refusePlainHttp, TLS_CIPHERS, TLS_HANDSHAKE_TIMEOUT_MS, TLS_MIN_VERSION, type OrderedRequests, type ConnectionAdmission } from '@deimos/net';
import { DashboardAssets } from '@deimos/dashboard';
import { serveClientsFirst, type LoopConnections, type RequestTaker } from './client-loop.js';
import { Discovery, discoveryOptions, seedsOf } from './discovery.js';
import { EndpointPool } from './endpoint-pool.js';
import { Forwarder, declaresTooLarge } from './forwarder.js';
import type { ProxyLogger } from './logger.js';
import { MemberHealthLog } from './member-health-log.js';
import { ProxyMetrics } from './metrics.js';
import { plainRequestTaker } from './plain-request-taker.js';
import type { ProxyConfig } from './proxy-config.js';
import { sendClusterError } from './proxy-errors.js';
import { readonlyRefuses, refuseReadonly } from './readonly-guard.js';
import { resolvesToSelf, type ListenAddress } from './self-address.js';
import { portOf } from './url-port.js';
import { servesDashboardLocally } from './dashboard-paths.js';
import { ProxyStartError } from './proxy-start-error.js';
import { readTls, type TlsMaterial } from './tls-material.js';
import type { WorkerMemberList } from './worker-member-list.js';

export { ProxyStartError } from './proxy-start-error.js';

/** A running proxy. */
export interface RunningProxy {
  /** The first listen URL, with the bound port. */
  url: string;
  /** Every listen URL, with bound ports. */
  urls: string[];
  metrics: ProxyMetrics;
  pool: EndpointPool;
  /** Refreshes the member list now (in a worker, the primary does); true when one was learned. */
  refresh(): Promise<boolean>;
  /** This process's own `/metrics` text. */
  localMetrics(): string;
  /** Stops listening, closes every connection and stops discovery. */
  stop(): Promise<void>;
  /**
   * Reads the TLS files again (SIGHUP) for the connections made from now on; a file that cannot be
   * used is logged and the old material kept.
   */
  reloadTls(): void;
}

/** A bound listener: node:http with the client loop in front. */
interface Listener {
  server: Server;
  loop: LoopConnections;
  address: ListenAddress;
  url: string;
}

/** Time a whole request (head and body) may take to arrive, on the loop and on node:http alike. */
const REQUEST_ARRIVAL_MS = 30_000;
/**
 * node:http options of the listeners, plain or TLS. A request must arrive within the arrival bound
 * (a trickled body is otherwise read for ever), which node:http checks every
 * `connectionsCheckingInterval`. Its Host check is off: Go's answers instead (goRequestRefusal).
 */
const LISTENER_OPTIONS: ServerOptions = Object.freeze({
  requestTimeout: REQUEST_ARRIVAL_MS, headersTimeout: REQUEST_ARRIVAL_MS, connectionsCheckingInterval: 2_000, requireHostHeader: false,
  maxHeaderSize: CLIENT_MAX_HEADER_BYTES,
  keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
  keepAlive: true, keepAliveInitialDelay: CLIENT_TCP_KEEPALIVE_MS,
});
/** Least time between two warnings about failed accepts on one listener. */
const ACCEPT_WARNING_INTERVAL_MS = 10_000;

/** What every listener of a proxy shares. */
interface ListenDeps {
  ordered: OrderedRequests;
  take: RequestTaker;
  gate: ConnectionGate;
  config: ProxyConfig;
  tls: TlsMaterial;
  logger: ProxyLogger;
}

/** A TLS socket whose handshake did not finish. */
function handshakeUnfinished(socket: Socket): boolean {
  return socket instanceof TLSSocket && socket.getPeerFinished() === undefined;
}

async function listen(url: string, deps: ListenDeps): Promise<Listener> {
  const { ordered, config, tls, logger } = deps;
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const server: Server = https
    ? createHttpsServer({
      ...LISTENER_OPTIONS, cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: config.tls.clientCertAuth, rejectUnauthorized: config.tls.clientCertAuth,
      // The member's policy: no weaker protocols or suites in front of it, and a bounded handshake.
      minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    }, ordered.handler)
    : createHttpServer(LISTENER_OPTIONS, ordered.handler);
  // First, so that it takes over node's TLS connection listener before any other is added.
  if (https) refusePlainHttp(server);
  // Answer a client that half-closes after its requests, then close (node:http's default drops the
  // requests still being answered at the client's FIN: a write applied but never answered).
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // A request asking to continue (Expect: 100-continue) is told to only when its body is wanted:
  // one refused whatever its body (read-only mode, a length over the limit) gets its answer at once
  // and then the close (its client sends no body), as etcd's proxy answers it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const refused = (config.mode === 'readonly' && readonlyRefuses(req.method)) || declaresTooLarge(req, config.maxRequestBytes);
    if (refused) res.shouldKeepAlive = false;
    else res.writeContinue();
    ordered.handler(req, res);
  });
  // Parse errors and timeouts are answered as the member answers them, after the running request.
  server.on('clientError', answerClientErrors(ordered, { handshakeUnfinished, debug: (m, f) => logger.debug(m, f) }));
  const loop = serveClientsFirst(server, https ? 'secureConnection' : 'connection', deps.take, {
    maxBodyBytes: config.maxRequestBytes, keepAliveTimeoutMs: server.keepAliveTimeout, headersTimeoutMs: server.headersTimeout, requestTimeoutMs: server.requestTimeout,
  });
  // Last, so that it stands in front of every other connection listener.
  deps.gate.guard(server, { tls: https });
  const host = u.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new ProxyStartError('ERR_PROXY_LISTEN', `cannot listen on ${url}: ${err.message}`));
    server.once('error', onError);
    server.listen(portOf(u), host, () => {
      server.off('error', onError);
      // From now on an 'error' is a failed accept (EMFILE, ENFILE, ENOBUFS...), which without a
      // listener would end the process: it is logged (throttled) and the listener goes on.
      const warning = new LogThrottle(logger, ACCEPT_WARNING_INTERVAL_MS, () => performance.now());
      server.on('error', (err: NodeJS.ErrnoException) => warning.warn('cannot accept a connection', { url, error: err.message, code: err.code ?? '' }));
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { server, loop, address: { address: bound.address, port: bound.port }, url: `${u.protocol}//${u.hostname}:${bound.port}` };
}

/** Options of {@link startProxy}. */
export interface StartProxyOptions {
  /** Turns this process's `/metrics` text into the one served (a worker: every worker's, merged). */
  gatherMetrics?: (local: string) => Promise<string>;
  /** The proxy-wide client connection bound each accepted connection needs a slot of (a worker). */
  admission?: ConnectionAdmission;
  /** The member list from the primary's discovery, instead of a discovery of this process's own (a worker). */
  memberList?: WorkerMemberList;
}

/** Starts a proxy; throws {@link ProxyStartError} when it cannot. */
export async function startProxy(config: ProxyConfig, logger: ProxyLogger, options: StartProxyOptions = {}): Promise<RunningProxy> {
  const { client: clientTls, peer: peerTls } = readTls(config);
  const proxyId = randomBytes(6).toString('hex');
  const { memberList } = options;
  // A worker's failures and answers go to its primary, which logs each outage once for all.
  const pool = new EndpointPool(config.failureWaitMs, Date.now, memberList ?? new MemberHealthLog(logger, config.failureWaitMs));
  const metrics = new ProxyMetrics();
  const forwarder = new Forwarder(pool, metrics, {
    proxyId, dialTimeoutMs: config.dialTimeoutMs, responseTimeoutMs: config.responseTimeoutMs, maxRequestBytes: config.maxRequestBytes, tls: clientTls,
  }, logger);

  // Read once at start; its API calls (/v2/..., /metrics, /dashboard/api/...) are forwarded as usual.
  const dashboard = config.dashboard ? DashboardAssets.load() : undefined;
  if (dashboard !== undefined && !dashboard.built) logger.warn('the dashboard was not built (npm run build): /dashboard/ answers 404', {});
  // A worker leaves deimos_proxy_upstream_up to its primary, which keeps the members' health.
  const localMetrics = (): string => metrics.render(memberList !== undefined ? undefined : pool.all().map((e) => ({ url: e.url, failed: pool.isFailed(e) })));
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    metrics.requestReceived();
    const url = req.url ?? '/';
    if (servesDashboardLocally(url)) {
      metrics.answeredLocally('dashboard');
      if (dashboard !== undefined) return dashboard.serve(req, res, url.split('?', 1)[0]!);
      const text = '404 page not found\n';
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (req.url === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      const send = (text: string): void => {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      };
      const local = localMetrics();
      if (options.gatherMetrics === undefined) return send(local);
      options.gatherMetrics(local).then(send, () => send(local));
      return;
    }
    if (config.mode === 'readonly' && readonlyRefuses(req.method)) {
      metrics.answeredLocally('readonly');
      refuseReadonly(req, res);
      return;
    }
    forwarder.handle(req, res).catch((err: Error) => {
      logger.error('forwarding failed', { error: err.message, stack: err.stack ?? '' });
      sendClusterError(res, 500, `internal error: ${err.message}`);
    });
  };

  const take = plainRequestTaker({ forwarder, metrics, logger, proxyId, readonly: config.mode === 'readonly' });
  const gate = new ConnectionGate({ side: 'client', limit: config.maxClientConns, logger, now: () => performance.now(), advice: 'retry later or use another proxy or member', admission: options.admission });
  metrics.countConnections(gate, options.admission === undefined);
  const deps: ListenDeps = { ordered: orderedRequests(handler, goRequestRefusal), take, gate, config, tls: clientTls, logger };
  const listeners: Listener[] = [];
  const closeListeners = async () => {
    await Promise.all(listeners.map(({ server, loop }) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      loop.destroyAll();
    })));
  };
  try {
    for (const url of config.listenUrls) listeners.push(await listen(url, deps));
  } catch (err) {
    await closeListeners();
    throw err;
  }
  const addresses = listeners.map((l) => l.address);
  const isSelf = (url: string) => resolvesToSelf(url, addresses);

  // A worker leaves the warnings to its primary, whose discovery checks the same addresses.
  const seeds = await seedsOf(config.endpoints, isSelf, memberList === undefined ? logger : undefined);
  if (config.endpoints.length > 0 && seeds.length === 0 && config.bootstrapPeerUrls.length === 0) {
    await closeListeners();
    throw new ProxyStartError('ERR_PROXY_SELF', `every --endpoints URL (${config.endpoints.join(', ')}) is this proxy's own listen address; point it at the cluster's client URLs`);
  }
  pool.setUrls(seeds);
  let discovery: Discovery | undefined;
  if (memberList !== undefined) await memberList.start(pool, addresses);
  else {
    discovery = new Discovery(pool, discoveryOptions(config, seeds, isSelf, { client: clientTls, peer: peerTls }), logger);
    await discovery.start();
  }
  const urls = listeners.map((l) => l.url);
  logger.info('proxy serving', { mode: config.mode, listen: urls, members: pool.urls(), maxClientConns: config.maxClientConns });
  return {
    url: urls[0]!,
    urls,
    metrics,
    pool,
    refresh: () => (discovery !== undefined ? discovery.refresh() : memberList!.refresh()),
    localMetrics,
    async stop() {
      discovery?.stop();
      await closeListeners();
      forwarder.close();
    },
    reloadTls() {
      let fresh;
      try {
        fresh = readTls(config);
        for (const l of listeners) {
          if (l.url.startsWith('https:')) (l.server as unknown as { setSecureContext(o: object): void }).setSecureContext({ cert: fresh.client.cert, key: fresh.client.key, ca: fresh.client.ca });
        }
      } catch (err) {
        logger.error('cannot reload TLS certificates; keeping the previous ones', { error: (err as Error).message });
        return;
      }
      // The member connections read these objects at their next connection.
      Object.assign(clientTls, fresh.client);
      Object.assign(peerTls, fresh.peer);
      logger.info('reloaded TLS certificates for new connections');
    },
  };
}
