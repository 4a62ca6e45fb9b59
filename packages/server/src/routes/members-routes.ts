/**
 * `/v2/members` and `/members` with etcd v2 semantics: list, leader, add (POST), remove (DELETE),
 * update peer URLs (PUT). Changes go through raft configuration changes, one at a time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from './member-view.js';
import { readBody, BodyReadError } from '../http/body-reader.js';
import { sendBody, sendJson, sendJsonLine, sendMethodNotAllowed } from './respond.js';
import { writePlainError } from '../http/method-guard.js';
import { goJsonSyntaxError } from '../http/go-json-syntax.js';

const ALLOW = 'GET,POST,DELETE,PUT';
const MAX_BODY_BYTES = 64 * 1024;

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
  const sub = rest.replace(/^\/+/, '').replace(/\/+$/, '');
  try {
    if (method === 'GET') return await serveGet(member, sub, res, headers);
    // etcd adds whatever follows the prefix on a POST, and takes `leader` as a (missing) id on PUT/DELETE.
    if (method === 'POST') {
      const peerURLs = await readPeerUrls(req);
      const added = await member.addMember(peerURLs);
      return sendJsonLine(res, 201, added, headers);
    }
    // Without an id etcd answers a bare 405: no Allow header, unlike its method check above.
    if (sub === '') return writePlainError(res, 405, 'Method Not Allowed');
    if (method === 'DELETE') {
      await member.removeMember(sub);
      return sendBody(res, 204, 'text/plain', '', headers);
    }
    const peerURLs = await readPeerUrls(req);
    await member.updateMember(sub, peerURLs);
    return sendBody(res, 204, 'text/plain', '', headers);
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
    if (!lead) return sendJson(res, 503, { message: 'During Leader Election' }, headers);
    return sendJsonLine(res, 200, lead, headers);
  }
  sendJson(res, 404, { message: 'Not found' }, headers);
}

async function readPeerUrls(req: IncomingMessage): Promise<string[]> {
  const ct = req.headers['content-type'] ?? '';
  if (ct.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
    req.resume();
    throw new MembersApiError(415, `Bad Content-Type ${ct}, accept application/json`);
  }
  let body: Buffer | undefined;
  try {
    body = await readBody(req, { maxBytes: MAX_BODY_BYTES });
  } catch (err) {
    if (err instanceof BodyReadError) throw new MembersApiError(err.code === 'BODY_TOO_LARGE' ? 413 : 400, err.message);
    throw err;
  }
  const text = body?.toString('utf8') ?? '';
  const syntaxError = goJsonSyntaxError(text);
  if (syntaxError !== undefined) throw new MembersApiError(400, syntaxError);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // valid first value followed by more text: Go decodes the first value only
    const end = text.trimEnd();
    try {
      parsed = JSON.parse(end.slice(0, firstValueEnd(end)));
    } catch {
      parsed = undefined;
    }
  }
  const urls = (parsed as { peerURLs?: unknown })?.peerURLs;
  if (!Array.isArray(urls) || urls.length === 0) throw new MembersApiError(400, 'no valid URLs given');
  for (const u of urls) {
    let ok = false;
    if (typeof u === 'string') {
      try {
        const url = new URL(u);
        ok = ['http:', 'https:', 'unix:', 'unixs:'].includes(url.protocol) && url.host !== '';
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new MembersApiError(400, `URL scheme must be http, https, unix, or unixs: ${String(u)}`);
  }
  return (urls as string[]).map((u) => u.replace(/\/+$/, ''));
}

/** Length of the first JSON value of a text that holds more than one (approximate: by bracket depth). */
function firstValueEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}
