/**
 * The keys API (`/v2/keys/...` and `/keys/...`): parse and validate, then read from the store
 * (after a ReadIndex round unless serializable), propose a write and answer once it is applied,
 * or start a watch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError, ErrorCode, type ReplicatedRequest } from '@deimos/protocol';
import { checksRecursively, KEYS_METHODS, parseKeysRequest, type GetKeysRequest, type KeysRequest } from '../http/keys-request.js';
import { BodyReadError, readBody, writeBodyError } from '../http/body-reader.js';
import { allowMethod } from '../http/method-guard.js';
import { crossSiteRefusal } from '../http/cross-site.js';
import { errorParts, eventParts, readParts, sendParts, writeError, writeRedirect, type ResponseParts } from '../http/write-response.js';
import { isReservedPath, renderEvent, type StoreRead } from '../store/index.js';
import type { BigReads } from './big-reads.js';
import type { DistributiveOmit, MemberView } from './member-view.js';
import { isRemoteKeys, type LocalKeys } from './keys-access.js';
import { serveWatch } from './watch-route.js';
import { AuthBusyError } from '../auth/auth-error.js';
import { hasKeyAccess, writeKeysNoAuth } from '../auth/auth-routes.js';
import { NO_SPACE_CAUSE, NoSpaceError } from '../util/no-space.js';
import { RequestTimeoutError } from '../raft-node/wait-registry.js';
import { TIMEOUT } from '../member/timeout-cause.js';

/** A keys request that proposes a write. */
export type WriteKeysRequest = Exclude<KeysRequest, { kind: 'get' | 'watch' }>;

/**
 * The error a request gets when consensus did not answer in time (etcd's 300), with the cause the
 * member found for a write's timeout (timeout-cause.ts).
 */
function timeoutError(err?: unknown): EtcdError {
  return new EtcdError(ErrorCode.RaftInternal, (err instanceof RequestTimeoutError ? err.etcdCause : undefined) ?? TIMEOUT, 0);
}

/**
 * The error a write gets while the member's disk is full (its NOSPACE alarm is raised). etcd's v2
 * API has no code of its own for it, so it is the 300 "Raft Internal Error" (HTTP 500, from the one
 * status table) that etcd gives a write it could not commit, with etcd's NOSPACE text as the cause.
 * Unlike a timeout, the write was refused before it was proposed: it did not happen.
 */
function noSpaceError(): EtcdError {
  return new EtcdError(ErrorCode.RaftInternal, NO_SPACE_CAUSE, 0);
}

/**
 * The key a permission is checked against: as etcd does, the request's decoded path after the keys
 * prefix, not the cleaned key (so `/v2/keys/app/` is `/app/`, which `/app/*` allows).
 */
export function authKeyOf(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const rest = path.startsWith('/v2/keys') ? path.slice('/v2/keys'.length) : path.slice('/keys'.length);
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

/** Serves one keys API request. */
export async function serveKeys(member: MemberView, req: IncomingMessage, res: ServerResponse, bigReads: BigReads): Promise<void> {
  const method = req.method ?? 'GET';
  // A non-canonical path got its 301 in the router, before any method check (Go's mux).
  if (!allowMethod(res, method, KEYS_METHODS)) return;
  const clusterId = member.clusterId;
  let body: Buffer | undefined;
  if (method === 'PUT' || method === 'POST' || method === 'DELETE') {
    const h = req.headers;
    const fetchSite = h['sec-fetch-site'];
    if (fetchSite !== undefined) {
      // A browser's write for a page of another site (CSRF); etcd clients send neither header.
      const refusal = crossSiteRefusal({ origin: h.origin, fetchSite: Array.isArray(fetchSite) ? fetchSite[0] : fetchSite }, member.config.corsOrigins);
      if (refusal !== undefined) return writeError(res, refusal, { clusterId });
    }
    try {
      body = await readBody(req, { maxBytes: member.config.maxRequestBytes });
    } catch (err) {
      if (err instanceof BodyReadError) return writeBodyError(res, err, { clusterId });
      throw err;
    }
    if (body.length === 0) body = undefined;
  }
  let parsed;
  try {
    parsed = parseKeysRequest({ method, rawUrl: req.url ?? '/', body, contentType: req.headers['content-type'] });
  } catch (err) {
    if (err instanceof EtcdError) return writeError(res, err, { clusterId, head: method === 'HEAD' });
    throw err;
  }
  if (parsed.kind === 'redirect') return writeRedirect(res, parsed);
  if (member.auth.enabled) {
    let allowed;
    try {
      allowed = await hasKeyAccess(member, req, authKeyOf(req.url ?? '/'), checksRecursively(parsed));
    } catch (err) {
      if (!(err instanceof AuthBusyError)) throw err;
      // Not "wrong credentials": etcd's answer for a server that cannot serve now (clients move on).
      return writeError(res, new EtcdError(ErrorCode.RaftInternal, `etcdserver: ${err.message}`, member.keys.index), { clusterId });
    }
    if (!allowed) return writeKeysNoAuth(res, clusterId);
  }
  if (parsed.kind === 'watch') return serveWatch(member, parsed, req, res);
  const reply = (parts: ResponseParts): void => sendParts(res, parts);
  if (parsed.kind === 'get') return answerGet(member, parsed, reply, bigReads);
  return answerWrite(member, parsed, reply);
}

/** Receives the one response of a keys request. */
export type KeysReply = (parts: ResponseParts) => void;

/**
 * Answers a read: at once when serializable (no promise: the hot path of local reads), after a
 * ReadIndex round otherwise.
 */
export function answerGet(member: MemberView, r: GetKeysRequest, reply: KeysReply, bigReads: BigReads): void | Promise<void> {
  // unsafeLocalReads is the chaos suite's deliberately broken mode (test-only environment flag).
  const local = r.serializable || member.config.unsafeLocalReads === true;
  const keys = member.keys;
  if (isRemoteKeys(keys)) return keys.get(r, !local, reply);
  if (local) return answerLocalGet(member, keys, r, reply, bigReads, false);
  return member.linearizableRead().then(
    () => answerLocalGet(member, keys, r, reply, bigReads, false),
    (err: unknown) => reply(errorParts(timeoutError(err), { clusterId: member.clusterId, includeIndexHeaders: true, head: r.head })),
  );
}

/**
 * Reads from the local store. A big answer (see big-reads.ts) needs a slot: without a free one it
 * waits for one and reads again, then (`admitted`) holds it, and gives it back unless it streams.
 */
function answerLocalGet(member: MemberView, keys: LocalKeys, r: GetKeysRequest, reply: KeysReply, bigReads: BigReads, admitted: boolean): void | Promise<void> {
  const clusterId = member.clusterId;
  let result: StoreRead;
  try {
    // The cluster's own records (members, auth) are not in the clients' keyspace (store-path.ts).
    if (isReservedPath(r.path)) throw new EtcdError(ErrorCode.KeyNotFound, r.path, keys.index);
    result = keys.read(r.path, { recursive: r.recursive, sorted: r.sorted, quiet: admitted }, Date.now(), bigReads.firstStep(admitted));
  } catch (err) {
    if (admitted) bigReads.release();
    if (err instanceof EtcdError) return reply(errorParts(err, { clusterId, head: r.head }));
    throw err;
  }
  const raft = member.raft();
  const headers = { clusterId, etcdIndex: result.index, raftIndex: raft.appliedIndex, raftTerm: raft.term };
  const listing = result.listing;
  if (listing === undefined || r.head) {
    listing?.close();
    if (admitted) bigReads.release();
    return reply(readParts(result.body, headers, r.head));
  }
  if (!admitted && !bigReads.tryAdmit()) {
    listing.close();
    return bigReads.admitted().then(() => answerLocalGet(member, keys, r, reply, bigReads, true));
  }
  reply(readParts(bigReads.stream(listing), headers));
}

/** The replicated request of a keys write (`timeMs` is the proposer's clock: for TTLs, and the event's time). */
export function toReplicated(r: WriteKeysRequest, nowMs: number): DistributiveOmit<ReplicatedRequest, 'id'> {
  switch (r.kind) {
    case 'set':
      return { op: 'set', path: r.path, value: r.value, dir: r.dir, ttlSeconds: r.ttlSeconds, refresh: r.refresh, timeMs: nowMs };
    case 'create':
      return { op: 'create', path: r.path, value: r.value, dir: r.dir, ttlSeconds: r.ttlSeconds, unique: r.unique, refresh: r.refresh, timeMs: nowMs };
    case 'update':
      return { op: 'update', path: r.path, value: r.value, ttlSeconds: r.ttlSeconds, refresh: r.refresh, timeMs: nowMs };
    case 'compareAndSwap':
      return { op: 'compareAndSwap', path: r.path, value: r.value, prevValue: r.prevValue, prevIndex: r.prevIndex, prevIndexText: r.prevIndexText, ttlSeconds: r.ttlSeconds, refresh: r.refresh, timeMs: nowMs };
    case 'delete':
      return { op: 'delete', path: r.path, dir: r.dir, recursive: r.recursive, timeMs: nowMs };
    case 'compareAndDelete':
      return { op: 'compareAndDelete', path: r.path, prevValue: r.prevValue, prevIndex: r.prevIndex, prevIndexText: r.prevIndexText, timeMs: nowMs };
  }
}

/** Answers a write once it is committed and applied (or with etcd's 300 when consensus did not answer). */
export async function answerWrite(member: MemberView, r: WriteKeysRequest, reply: KeysReply): Promise<void> {
  const clusterId = member.clusterId;
  if (isReservedPath(r.path)) {
    // The cluster's own records: absent to a delete, as to a read; reserved to anything that
    // would create or change them (only the cluster itself writes there).
    const removal = r.kind === 'delete' || r.kind === 'compareAndDelete';
    return reply(errorParts(new EtcdError(removal ? ErrorCode.KeyNotFound : ErrorCode.KeyIsPreserved, r.path, member.keys.index), { clusterId }));
  }
  let result;
  try {
    result = await member.propose(toReplicated(r, Date.now()));
  } catch (err) {
    return reply(errorParts(err instanceof NoSpaceError ? noSpaceError() : timeoutError(err), { clusterId }));
  }
  if (result.error) return reply(errorParts(result.error, { clusterId }));
  const event = renderEvent(result.event!, Date.now());
  const noValueOnSuccess = 'noValueOnSuccess' in r ? r.noValueOnSuccess : false;
  reply(eventParts(event, { clusterId, etcdIndex: result.event!.index, raftIndex: result.raftIndex, raftTerm: result.raftTerm, noValueOnSuccess }));
}
