/** The members API (`/v2/members`): list, leader, add, remove, update; and `/health`. */
import type { MemberJSON } from '@deimos/protocol';
import { ClusterUnavailableError, DeimosError } from './errors.js';
import { responseError, type HttpRequest, type HttpResponse } from './request.js';
import { memberBody, membersBody } from './response-shape.js';

/** What the members calls need from the client. */
export interface MembersContext {
  send(req: HttpRequest): Promise<HttpResponse>;
}

const MEMBERS = '/v2/members';

/** GET /v2/members. */
export async function listMembers(ctx: MembersContext, signal?: AbortSignal): Promise<MemberJSON[]> {
  const res = await ok(ctx, { method: 'GET', path: MEMBERS, safety: 'read', ...(signal ? { signal } : {}) });
  return membersBody(res.body);
}

/** GET /v2/members/leader. */
export async function leaderMember(ctx: MembersContext): Promise<MemberJSON> {
  const res = await ok(ctx, { method: 'GET', path: `${MEMBERS}/leader`, safety: 'read' });
  return memberBody(res.body);
}

/** POST /v2/members: adds a member (not retried once it may have reached a member). */
export async function addMember(ctx: MembersContext, peerURLs: string[]): Promise<MemberJSON> {
  const res = await ok(ctx, { method: 'POST', path: MEMBERS, json: { peerURLs }, safety: 'unsafe' });
  return memberBody(res.body);
}

/** DELETE /v2/members/<id>. */
export async function removeMember(ctx: MembersContext, id: string): Promise<void> {
  await ok(ctx, { method: 'DELETE', path: `${MEMBERS}/${encodeURIComponent(id)}`, safety: 'unsafe' });
}

/** PUT /v2/members/<id> with new peer URLs. */
export async function updateMember(ctx: MembersContext, id: string, peerURLs: string[]): Promise<void> {
  await ok(ctx, { method: 'PUT', path: `${MEMBERS}/${encodeURIComponent(id)}`, json: { peerURLs }, safety: 'unsafe' });
}

/**
 * GET <endpoint>/health: true for `{"health":"true"}`, false for any other answer (503 without a
 * quorum); throws {@link ClusterUnavailableError} when the endpoint cannot be reached.
 */
export async function health(ctx: MembersContext, endpoint: string): Promise<boolean> {
  let res: HttpResponse;
  try {
    res = await ctx.send({ method: 'GET', path: '/health', safety: 'read', endpoint: endpoint.replace(/\/+$/, '') });
  } catch (err) {
    // A 5xx answer (503 {"health":"false"}) is an unhealthy member, not an unreachable one.
    if (err instanceof ClusterUnavailableError && err.errors.every((e) => e instanceof DeimosError)) return false;
    throw err;
  }
  if (res.status !== 200) return false;
  try {
    return (JSON.parse(res.body) as { health?: unknown }).health === 'true';
  } catch {
    return false; // not a health document: not healthy
  }
}

async function ok(ctx: MembersContext, req: HttpRequest): Promise<HttpResponse> {
  const res = await ctx.send(req);
  if (res.status >= 200 && res.status < 300) return res;
  throw responseError(res);
}
