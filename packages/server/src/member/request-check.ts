/**
 * The shape check of a replicated request. A committed entry is input like any other: it may come
 * from a member running other code, or from a bug in the proposing path. Every member runs the same
 * check on the same bytes, so a request that fails it fails the same way everywhere, before the
 * store is touched. The proposing member runs it too, so a bad request never enters the log.
 */
import type { ReplicatedRequest } from '@deimos/protocol';
import { MAX_TTL_SECONDS } from '../http/keys-request.js';
import { isCleanPath } from '../store/store-path.js';
import { isPasswordHash } from '../auth/password-hash.js';

type Fields = Record<string, unknown>;

function isIndex(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
}

function isTtl(v: unknown): boolean {
  return v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TTL_SECONDS);
}

function isTime(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 8.64e15;
}

/** A delete's time is optional: entries of builds before it was sent have none. */
function optionalTimeProblem(r: Fields): string | undefined {
  return r.timeMs === undefined || isTime(r.timeMs) ? undefined : `timeMs ${String(r.timeMs)} is not a time`;
}

function isOptionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

function valueWriteProblem(r: Fields): string | undefined {
  if (typeof r.value !== 'string') return 'value is not a string';
  if (!isTtl(r.ttlSeconds)) return `ttlSeconds ${String(r.ttlSeconds)} is not an integer in [0, ${MAX_TTL_SECONDS}]`;
  if (!isTime(r.timeMs)) return `timeMs ${String(r.timeMs)} is not a time`;
  if (typeof r.refresh !== 'boolean') return 'refresh is not a boolean';
  return undefined;
}

function compareProblem(r: Fields): string | undefined {
  if (!isOptionalString(r.prevValue)) return 'prevValue is not a string';
  if (!isIndex(r.prevIndex)) return `prevIndex ${String(r.prevIndex)} is not an index`;
  if (r.prevIndexText !== undefined && !(typeof r.prevIndexText === 'string' && /^[1-9][0-9]{15,19}$/.test(r.prevIndexText))) {
    return 'prevIndexText is not the digits of a large index';
  }
  return undefined;
}

function keysProblem(r: Fields): string | undefined {
  if (typeof r.path !== 'string' || !isCleanPath(r.path)) return `path ${JSON.stringify(r.path)} is not a clean key path`;
  switch (r.op) {
    case 'set':
      return typeof r.dir !== 'boolean' ? 'dir is not a boolean' : valueWriteProblem(r);
    case 'create':
      if (typeof r.dir !== 'boolean' || typeof r.unique !== 'boolean') return 'dir or unique is not a boolean';
      return valueWriteProblem(r);
    case 'update':
      return valueWriteProblem(r);
    case 'compareAndSwap':
      return valueWriteProblem(r) ?? compareProblem(r);
    case 'delete':
      if (typeof r.dir !== 'boolean' || typeof r.recursive !== 'boolean') return 'dir or recursive is not a boolean';
      return optionalTimeProblem(r);
    case 'compareAndDelete':
      return compareProblem(r) ?? optionalTimeProblem(r);
    default:
      return `unknown op ${JSON.stringify(r.op)}`;
  }
}

/**
 * What is wrong with a replicated request, or undefined when it can be applied. Checks types and
 * ranges only; whether the operation succeeds on the current keyspace is the store's decision.
 */
export function replicatedRequestProblem(req: ReplicatedRequest): string | undefined {
  const r = req as unknown as Fields;
  if (typeof r.id !== 'string') return 'id is not a string';
  if (r.op === 'sync') return isTime(r.timeMs) ? undefined : `timeMs ${String(r.timeMs)} is not a time`;
  if (r.op === 'publish') {
    if (typeof r.memberId !== 'string' || typeof r.name !== 'string') return 'memberId or name is not a string';
    const urls = r.clientUrls;
    return Array.isArray(urls) && urls.every((u) => typeof u === 'string') ? undefined : 'clientUrls is not a list of strings';
  }
  if (r.op === 'auth') return authProblem(r);
  return keysProblem(r);
}

const AUTH_ACTIONS = new Set(['putUser', 'deleteUser', 'putRole', 'deleteRole', 'enable', 'disable']);

function isNameList(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
}

function isPermissions(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Fields;
  return (p.read === null || isNameList(p.read)) && (p.write === null || isNameList(p.write));
}

function authProblem(r: Fields): string | undefined {
  if (typeof r.action !== 'string' || !AUTH_ACTIONS.has(r.action)) return `unknown auth action ${JSON.stringify(r.action)}`;
  if (!isTime(r.timeMs)) return `timeMs ${String(r.timeMs)} is not a time`;
  if (r.action === 'enable' || r.action === 'disable') return undefined;
  if (typeof r.name !== 'string' || r.name.length === 0) return 'name is not a non-empty string';
  // Only a salted hash may be replicated: a clear password fails here, before it reaches the log.
  if (r.passwordHash !== undefined && !isPasswordHash(r.passwordHash)) return 'passwordHash is not a password hash';
  if (!isNameList(r.roles) || !isNameList(r.grant) || !isNameList(r.revoke)) return 'roles, grant or revoke is not a list of strings';
  if (!isPermissions(r.permissions) || !isPermissions(r.grantKv) || !isPermissions(r.revokeKv)) return 'permissions are not lists of strings';
  return undefined;
}
