/**
 * The keys API on the client port's own connection loop (http/fast-connection.ts): GET, PUT, POST
 * and DELETE on keys paths, answered with the same status, headers and body as through node:http
 * (the same parse, store and raft calls, the same response parts). Everything else (other routes and
 * methods, CORS preflights, a member not yet ready, watches the bare-socket taker declines) is
 * declined and node:http serves it.
 */
import { performance } from 'node:perf_hooks';
import { EtcdError } from '@deimos/protocol';
import { corsHeaders } from '../http/cors.js';
import type { ConnectionTaker, FastHandler } from '../http/fast-connection.js';
import { checksRecursively, parseKeysRequest } from '../http/keys-request.js';
import { crossSiteRefusal } from '../http/cross-site.js';
import { errorParts, type ResponseParts } from '../http/write-response.js';
import { answerGet, answerWrite, authKeyOf } from './keys-route.js';
import type { Identity } from '../auth/auth-guard.js';
import type { BigReads } from './big-reads.js';
import type { MemberView } from './member-view.js';

/** Records one answered request for /metrics (route, method, status, seconds). */
export type RecordRequest = (route: string, method: string, code: number, seconds: number) => void;

function isKeysPath(path: string): boolean {
  return path === '/v2/keys' || path.startsWith('/v2/keys/') || path === '/keys' || path.startsWith('/keys/');
}

/** The pairs for `*` (etcd's default allow-list), built once. */
const ANY_ORIGIN: readonly (string | number)[] = Object.freeze(Object.entries(corsHeaders(['*'], undefined)!).flat());

/** Header pairs to send first for a request from `origin` (CORS), or undefined. */
function corsPairs(allowList: readonly string[], origin: string | undefined): readonly (string | number)[] | undefined {
  if (allowList.length === 0) return undefined;
  if (allowList.length === 1 && allowList[0] === '*') return ANY_ORIGIN;
  const headers = corsHeaders(allowList, origin);
  return headers === undefined ? undefined : Object.entries(headers).flat();
}

/** Creates the loop's handler of keys requests; `takeWatch` serves a watch on the bare socket. */
export function fastKeysHandler(member: MemberView, isReady: () => boolean, record: RecordRequest, takeWatch: ConnectionTaker, bigReads: BigReads): FastHandler {
  return ({ head, body }, exchange) => {
    const method = head.method;
    if (method !== 'GET' && method !== 'PUT' && method !== 'POST' && method !== 'DELETE') return false;
    if (!isReady()) return false;
    // While auth is enabled the loop serves only requests whose exact Authorization header has a
    // cached check for the current auth state (see AuthGuard.cached) and whose key that user may
    // use; node:http's route serves the rest (guests, certificates, first checks, refusals).
    let who: Exclude<Identity, { guest: true }> | undefined;
    if (member.auth.enabled) {
      const authorization = head.headers.get('authorization');
      const cached = authorization === undefined ? undefined : member.authGuard.cached(authorization);
      if (cached === undefined || cached.guest) return false;
      who = cached;
    }
    const url = head.url;
    const q = url.indexOf('?');
    if (!isKeysPath(q >= 0 ? url.slice(0, q) : url)) return false;
    let parsed;
    try {
      parsed = parseKeysRequest({ method, rawUrl: url, body, contentType: head.headers.get('content-type') });
    } catch (err) {
      if (!(err instanceof EtcdError)) return false; // a parser bug: node:http's route answers it with a 500
      parsed = err;
    }
    if (!(parsed instanceof EtcdError)) {
      if (who !== undefined) {
        if (parsed.kind === 'watch' || parsed.kind === 'redirect') return false;
        if (!member.auth.userAllows(who.roles, authKeyOf(url), method !== 'GET', checksRecursively(parsed))) return false;
      }
      if (parsed.kind === 'watch') return exchange.lend(takeWatch);
      // A non-canonical path (rare) keeps node:http's exact 301.
      if (parsed.kind === 'redirect') return false;
    }
    const started = performance.now();
    const origin = head.headers.get('origin');
    const cors = corsPairs(member.config.corsOrigins, origin);
    const reply = (parts: ResponseParts): void => {
      const headers = cors === undefined ? parts.headers : [...cors, ...parts.headers];
      if (parts.stream !== undefined) exchange.stream(parts.status, headers, parts.stream);
      else exchange.reply(parts.status, headers, parts.body);
      record('keys', method, parts.status, (performance.now() - started) / 1000);
    };
    // A browser's write for a page of another site (CSRF); etcd clients send neither header.
    if (method !== 'GET' && !(parsed instanceof EtcdError)) {
      const fetchSite = head.headers.get('sec-fetch-site');
      if (fetchSite !== undefined) {
        const refusal = crossSiteRefusal({ origin, fetchSite }, member.config.corsOrigins);
        if (refusal !== undefined) parsed = refusal;
      }
    }
    if (parsed instanceof EtcdError) {
      reply(errorParts(parsed, { clusterId: member.clusterId }));
      return true;
    }
    try {
      const answered = parsed.kind === 'get' ? answerGet(member, parsed, reply, bigReads) : answerWrite(member, parsed, reply);
      if (answered !== undefined) answered.catch((err: Error) => failed(member, err, reply));
    } catch (err) {
      failed(member, err as Error, reply);
    }
    return true;
  };
}

/** A handler bug: logged, answered 500 as through node:http. */
function failed(member: MemberView, err: Error, reply: (parts: ResponseParts) => void): void {
  member.logger.error('keys handler failed', { error: err.stack ?? String(err) });
  const body = 'Internal Server Error\n';
  reply({ status: 500, headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', Buffer.byteLength(body)], body });
}
