/**
 * `/v2/members` and `/members` with etcd v2 semantics: list, leader, add (POST), remove (DELETE),
 * update peer URLs (PUT). Changes go through raft configuration changes, one at a time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from './member-view.js';
import { readBody, BodyReadError } from '../http/body-reader.js';
import { sendJson, sendJsonLine, sendMethodNotAllowed, sendNoContent } from './respond.js';
import { writePlainError } from '../http/method-guard.js';
import { parsePeerUrlsBody, PeerUrlsError } from './peer-urls.js';

const ALLOW = 'GET,POST,DELETE,PUT';

/** A members API failure with the status and message etcd uses. */
export class MembersApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'MembersApiError';
  }
}

/** Serves the members API; `rest` is the path after the members prefix ('' or '/leader' or '/<id>'). */
export async function serveMembers(member: MemberView, rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = { 'X-Etcd-Cluster-Id': member.clusterId };
  const method = req.method ?? 'GET';
  if (!['GET', 'POST', 'PUT', 'DELETE'].includes(method)) return sendMethodNotAllowed(res, ALLOW);
  // `/v2/members/` lists, but a slash after an id or `leader` stays part of it, as in etcd: `<id>/`
  // names no member (a DELETE of it removed the member) and `leader/` is not found.
  const sub = decodedPath(rest.replace(/^\/+/, ''));
  try {
    if (method === 'GET') return await serveGet(member, sub, res, headers);
    // etcd adds whatever follows the prefix on a POST, and takes `leader` as a (missing) id on PUT/DELETE.
    if (method === 'POST') {
      const peerURLs = await readPeerUrls(req, member.config.maxRequestBytes);
      const added = await member.addMember(peerURLs);
      return sendJsonLine(res, 201, added, headers);
    }
    // Without an id etcd answers a bare 405: no Allow header, unlike its method check above.
    if (sub === '') return writePlainError(res, 405, 'Method Not Allowed', ['X-Etcd-Cluster-Id', member.clusterId]);
    const id = memberIdFromPath(sub);
    if (method === 'DELETE') {
      await member.removeMember(id);
      return sendNoContent(res, headers);
    }
    // etcd parses the id before it reads the body.
    if (!/^[0-9a-f]{1,16}$/.test(id)) throw new MembersApiError(404, `No such member: ${id}`);
    const peerURLs = await readPeerUrls(req, member.config.maxRequestBytes);
    await member.updateMember(id, peerURLs);
    return sendNoContent(res, headers);
  } catch (err) {
    if (err instanceof MembersApiError) return sendJson(res, err.status, { message: err.message }, headers);
    // A bug: logged, and answered as etcd answers an unexpected error, without internals.
    member.logger.error('members request failed', { method, error: (err as Error).stack ?? String(err) });
    return sendJson(res, 500, { message: 'Internal Server Error' }, headers);
  }
}

async function serveGet(member: MemberView, sub: string, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  if (sub === '') return sendJsonLine(res, 200, { members: await member.members() }, headers);
  if (sub === 'leader') {
    const lead = (await member.members()).find((m) => m.id === member.raft().leaderId);
    if (!lead) return sendJson(res, 503, { message: 'During election' }, headers);
    return sendJsonLine(res, 200, lead, headers);
  }
  sendJson(res, 404, { message: 'Not found' }, headers);
}

/**
 * etcd's check of the Content-Type: `application/json`, compared as given unless it has parameters
 * (then the media type is trimmed and lower-cased): `APPLICATION/JSON` alone is refused.
 */
function isJsonContentType(ct: string): boolean {
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi).trim().toLowerCase()) === 'application/json';
}

/** The peer URLs of an add or update; the body is bounded as the keys API's are (--max-request-bytes; etcd has no lower bound for it). */
async function readPeerUrls(req: IncomingMessage, maxBytes: number): Promise<string[]> {
  const ct = req.headers['content-type'] ?? '';
  if (!isJsonContentType(ct)) {
    req.resume();
    throw new MembersApiError(415, `Bad Content-Type ${ct}, accept application/json`);
  }
  let body: Buffer | undefined;
  try {
    body = await readBody(req, { maxBytes });
  } catch (err) {
    if (err instanceof BodyReadError) throw new MembersApiError(err.code === 'BODY_TOO_LARGE' ? 413 : 400, err.message);
    throw err;
  }
  try {
    return parsePeerUrlsBody(body?.toString('utf8') ?? '');
  } catch (err) {
    if (err instanceof PeerUrlsError) throw new MembersApiError(400, err.message);
    throw err;
  }
}

/** The path as Go's server hands it to etcd: percent-decoded (left as it is when malformed). */
function decodedPath(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A member ID as etcd parses it (`strconv.ParseUint(s, 16, 64)`): any case, leading zeros, and
 * named in its errors by the number (`ABC` and `0abc` are `abc`). Anything else stays as given.
 */
export function memberIdFromPath(s: string): string {
  if (!/^[0-9a-fA-F]{1,64}$/.test(s)) return s;
  const n = BigInt(`0x${s}`);
  return n > 0xffff_ffff_ffff_ffffn ? s : n.toString(16);
}
