/**
 * The shape of what a member answers, checked before it is used: an endpoint that is not an etcd
 * member (a web server, a proxy's error page, a broken middlebox) or a body cut short must fail
 * with one clear error, as etcd's client fails ("response is invalid json"), never be read as
 * keys and values (`[object Object]` printed with exit 0) or throw a TypeError from inside.
 */
import type { MemberJSON, NodeJSON } from '@deimos/protocol';

/** An answer that is not what an etcd member sends for the request. */
export class InvalidResponseError extends Error {
  readonly code = 'DEIMOS_INVALID_RESPONSE';
  constructor(readonly endpoint = '') {
    super('client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.');
    this.name = 'InvalidResponseError';
  }
}

/** The parsed JSON of `body`, or {@link InvalidResponseError}. */
export function parseJsonBody(body: string, endpoint?: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new InvalidResponseError(endpoint);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number' | 'boolean'): boolean => v === undefined || typeof v === type;

/** A node; only the root (etcd's answer for `/`) has no key. */
function isNode(v: unknown, depth = 0): v is NodeJSON {
  if (!isObject(v) || !optional(v.key, 'string') || depth > 10_000) return false;
  if (!optional(v.value, 'string') || !optional(v.dir, 'boolean') || !optional(v.ttl, 'number') || !optional(v.expiration, 'string')) return false;
  if (!optional(v.createdIndex, 'number') || !optional(v.modifiedIndex, 'number')) return false;
  return v.nodes === undefined || (Array.isArray(v.nodes) && v.nodes.every((n) => isNode(n, depth + 1)));
}

/** A keys API answer's body: an action, and a node and previous node when present, each well formed. */
export function keysBody(body: string, endpoint?: string): { action: string; node?: NodeJSON; prevNode?: NodeJSON } {
  const v = parseJsonBody(body, endpoint);
  if (!isObject(v) || typeof v.action !== 'string') throw new InvalidResponseError(endpoint);
  if ((v.node !== undefined && !isNode(v.node)) || (v.prevNode !== undefined && !isNode(v.prevNode))) throw new InvalidResponseError(endpoint);
  return v as { action: string; node?: NodeJSON; prevNode?: NodeJSON };
}

function isMember(v: unknown): v is MemberJSON {
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((s) => typeof s === 'string');
  return isObject(v) && typeof v.id === 'string' && optional(v.name, 'string') && strings(v.peerURLs) && (v.clientURLs === undefined || strings(v.clientURLs));
}

/** A member's JSON (`/v2/members/leader`, an added member). */
export function memberBody(body: string, endpoint?: string): MemberJSON {
  const v = parseJsonBody(body, endpoint);
  if (!isMember(v)) throw new InvalidResponseError(endpoint);
  return v;
}

/** The member list of `/v2/members`. */
export function membersBody(body: string, endpoint?: string): MemberJSON[] {
  const v = parseJsonBody(body, endpoint);
  if (!isObject(v) || !Array.isArray(v.members) || !v.members.every(isMember)) throw new InvalidResponseError(endpoint);
  return v.members;
}
