/**
 * The client API's request router: CORS, then one route per endpoint family, with request
 * counts and latencies recorded for /metrics. Unknown paths get Go's `404 page not found`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { takeRequest } from '@deimos/net';
import type { MemberView } from './member-view.js';
import type { CounterSeries, HistogramSeries } from '../metrics/registry.js';
import type { FastHandler } from '../http/fast-connection.js';
import { BigReads } from './big-reads.js';
import { fastKeysHandler, type RecordRequest } from './fast-keys.js';
import { watchConnectionTaker } from './parked-watch.js';
import { sendBody } from './respond.js';
import { applyCors } from '../http/cors.js';
import { writeNotFound } from '../http/method-guard.js';
import { redirectFor } from '../http/keys-request.js';
import { writeRedirect } from '../http/write-response.js';
import { serveDebugVars, serveHash, serveHealth, serveMachines, serveMetrics, serveVersion } from './info-routes.js';
import { serveStats } from './stats-routes.js';
import { serveMembers } from './members-routes.js';
import { serveKeys } from './keys-route.js';
import { AuthBusyError } from '../auth/auth-error.js';
import { hasRootAccess, serveAuth, serveSignInCheck, writeNoAuth } from '../auth/auth-routes.js';
import { DashboardAssets, isDashboardPath } from '@deimos/dashboard';
import { serveClusterStatus } from './dashboard-cluster.js';
import { crossSiteWrite } from '../http/cross-site.js';

function routeOf(path: string): string {
  if (path === '/v2/keys' || path.startsWith('/v2/keys/') || path === '/keys' || path.startsWith('/keys/')) return 'keys';
  if (path === '/v2/members' || path.startsWith('/v2/members/') || path === '/members' || path.startsWith('/members/')) return 'members';
  if (path === '/v2/machines' || path === '/machines') return 'machines';
  if (path.startsWith('/v2/stats/') || path.startsWith('/stats/')) return 'stats';
  if (path.startsWith('/v2/auth/')) return 'auth';
  if (path === '/version' || path === '/health' || path === '/metrics') return path.slice(1);
  if (path === '/deimos/hash') return 'hash';
  if (path === '/debug/vars') return 'debug-vars';
  // Last: the dashboard costs the API's routes nothing.
  if (isDashboardPath(path)) return 'dashboard';
  return 'unknown';
}

/** Most distinct (route, method, status) series kept bound; past it, counting builds the key each time. */
const MAX_BOUND_SERIES = 1000;

/**
 * The request counter and latency histogram (by route and method, so that write latency is told
 * apart from watches, which are GETs), with their series bound per label set on first use: one
 * map lookup per request.
 */
function requestMetrics(member: MemberView): RecordRequest {
  const requests = member.metrics.counter('deimos_http_requests_total', 'Client HTTP requests by route, method and status.');
  const latency = member.metrics.histogram('deimos_http_request_duration_seconds', 'Client HTTP request latency by route and method.');
  const bound = new Map<string, { counted: CounterSeries; timed: HistogramSeries }>();
  return (route, method, code, seconds) => {
    const key = `${route} ${method} ${code}`;
    let b = bound.get(key);
    if (!b) {
      b = { counted: requests.labels({ route, method, code: String(code) }), timed: latency.labels({ route, method }) };
      if (bound.size < MAX_BOUND_SERIES) bound.set(key, b);
    }
    b.counted.inc();
    b.timed.observe(seconds);
  };
}

/** The client API: node:http's request handler, and the handler of the connection loop in front of it. */
export interface ClientApi {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  fastHandler: FastHandler;
}

/** Creates the client API; `isReady` tells whether the member serves clients yet. */
export function createClientApi(member: MemberView, isReady: () => boolean): ClientApi {
  const record = requestMetrics(member);
  const takeWatch = watchConnectionTaker(member, isReady, (ms) => record('keys', 'GET', 200, ms / 1000));
  // One for both paths: the cap on big answers counts them all.
  const bigReads = new BigReads();
  return {
    handler: createClientHandler(member, record, bigReads),
    fastHandler: fastKeysHandler(member, isReady, record, takeWatch, bigReads),
  };
}

/** Creates the request handler of the client listeners. */
export function createClientHandler(
  member: MemberView, record = requestMetrics(member), bigReads = new BigReads(),
): (req: IncomingMessage, res: ServerResponse) => void {
  // Read once, here at start; undefined with --dashboard=false (its paths then answer 404).
  const dashboard = member.config.dashboard ? DashboardAssets.load() : undefined;
  if (dashboard !== undefined && !dashboard.built) member.logger.warn('the dashboard was not built (npm run build): /dashboard/ answers 404');
  return (req, res) => {
    const started = performance.now();
    if (takeRequest(req, res)) return;
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const route = routeOf(path);
    res.once('finish', () => record(route, req.method ?? '', res.statusCode, (performance.now() - started) / 1000));
    if (applyCors(req, res, member.config.corsOrigins)) return;
    try {
      // Go's ServeMux answers a path with `//`, `.` or `..` segments with a 301 to the cleaned
      // path, on every route (the keys API and the rest alike).
      const redirect = redirectFor(rawUrl);
      if (redirect !== null) return writeRedirect(res, redirect);
      if ((route === 'members' || route === 'auth') && refusedCrossSite(member, req, res)) return;
      dispatch(member, route, path, req, res, bigReads, dashboard);
    } catch (err) {
      member.logger.error('request handler failed', { path, error: (err as Error).stack ?? String(err) });
      if (!res.headersSent) sendBody(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
      else res.destroy();
    }
  };
}

/**
 * A browser's change of the membership or of users, roles and auth for a page of another site
 * (the keys API checks its own writes): a 403 that says why, as the keys API refuses them. Without
 * it any web page an operator visits could add a member or a root user with a password of its own.
 */
function refusedCrossSite(member: MemberView, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method ?? 'GET';
  const fetchSite = req.headers['sec-fetch-site'];
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || fetchSite === undefined) return false;
  const why = crossSiteWrite({ origin: req.headers.origin, fetchSite }, member.config.corsOrigins);
  if (why === undefined) return false;
  sendBody(res, 403, 'application/json', `${JSON.stringify({ message: why })}\n`);
  return true;
}

function failed(member: MemberView, res: ServerResponse, err: Error): void {
  if (err instanceof AuthBusyError && !res.headersSent) return sendBody(res, err.status, 'application/json', JSON.stringify({ message: err.message }));
  member.logger.error('request handler failed', { error: err.stack ?? String(err) });
  if (!res.headersSent) sendBody(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
  else res.destroy();
}

function dispatch(
  member: MemberView, route: string, path: string, req: IncomingMessage, res: ServerResponse, bigReads: BigReads, dashboard: DashboardAssets | undefined,
): void {
  switch (route) {
    case 'keys':
      return void serveKeys(member, req, res, bigReads).catch((err: Error) => {
        member.logger.error('keys handler failed', { error: err.stack ?? String(err) });
        if (!res.headersSent) sendBody(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
        else res.destroy();
      });
    case 'auth':
      return void serveAuth(member, path.slice('/v2/auth'.length), req, res).catch((err: Error) => failed(member, res, err));
    case 'members':
      if (member.auth.enabled && req.method !== 'GET' && req.method !== 'HEAD') {
        // etcd: changing the membership needs the root role while auth is enabled.
        return void hasRootAccess(member, req).then((ok) => {
          if (!ok) return writeNoAuth(res);
          return serveMembers(member, path.replace(/^(\/v2)?\/members/, ''), req, res);
        }).catch((err: Error) => failed(member, res, err));
      }
      return void serveMembers(member, path.replace(/^(\/v2)?\/members/, ''), req, res);
    case 'machines':
      return void serveMachines(member, req, res).catch((err: Error) => failed(member, res, err));
    case 'stats':
      // Stats, metrics, the hash and the dashboard's cluster status never look at credentials, as
      // etcd's stats and metrics do not (a scraper whose password went stale keeps working).
      return void serveStats(member, path.replace(/^(\/v2)?\/stats\//, ''), req, res).catch((err: Error) => failed(member, res, err));
    case 'version':
      return serveVersion(member, req, res);
    case 'health':
      return void serveHealth(member, req, res);
    case 'metrics':
      return void serveMetrics(member, res).catch((err: Error) => failed(member, res, err));
    case 'debug-vars':
      return void serveDebugVars(member, req, res).catch((err: Error) => failed(member, res, err));
    case 'hash':
      return void serveHash(member, req, res).catch((err: Error) => failed(member, res, err));
    case 'dashboard':
      if (dashboard === undefined) return writeNotFound(res);
      // The sign-in check is where a dashboard tells wrong credentials apart (auth-routes.ts); the
      // cluster view carries the stats and metrics of every member: the same rule as they.
      if (path === '/dashboard/api/signin') return void serveSignInCheck(member, req, res).catch((err: Error) => failed(member, res, err));
      if (path === '/dashboard/api/cluster') return void serveClusterStatus(member, req, res).catch((err: Error) => failed(member, res, err));
      return dashboard.serve(req, res, path);
    default:
      return writeNotFound(res);
  }
}
