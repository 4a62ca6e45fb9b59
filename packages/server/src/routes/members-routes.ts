/** `/v2/members` and `/members`: the member list and the leader (changes come with clustering). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from './member-view.js';
import { sendJson, sendMethodNotAllowed } from './respond.js';

/** Serves the members API; `rest` is the path after the members prefix ('' or '/leader' or '/<id>'). */
export function serveMembers(member: MemberView, rest: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = { 'X-Etcd-Cluster-Id': member.clusterId };
  const method = req.method ?? 'GET';
  if (!['GET', 'POST', 'PUT', 'DELETE'].includes(method)) return sendMethodNotAllowed(res, 'GET,POST,DELETE,PUT');
  const sub = rest.replace(/^\/+/, '');
  if (method === 'GET') {
    if (sub === '') return sendJson(res, 200, { members: member.members() }, headers);
    if (sub === 'leader') {
      const lead = member.members().find((m) => m.id === member.raft().leaderId);
      if (!lead) return sendJson(res, 503, { message: 'During Leader Election' }, headers);
      return sendJson(res, 200, lead, headers);
    }
    return sendJson(res, 404, { message: 'Not found' }, headers);
  }
  if (method === 'DELETE' && sub === '') return sendMethodNotAllowed(res, 'GET,POST,DELETE,PUT');
  sendJson(res, 500, { message: 'membership changes are not available on this server yet' }, headers);
}
