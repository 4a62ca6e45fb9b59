/** `/v2/stats/self`, `/v2/stats/leader` and `/v2/stats/store` (also under `/stats/`). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from './member-view.js';
import { sendJson, sendMethodNotAllowed } from './respond.js';
import { writeNotFound } from '../http/method-guard.js';

/** Serves one stats endpoint; `which` is the last path segment. */
export function serveStats(member: MemberView, which: string, req: IncomingMessage, res: ServerResponse): void {
  if (which !== 'self' && which !== 'leader' && which !== 'store') return writeNotFound(res);
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  if (which === 'self') return sendJson(res, 200, member.selfStats());
  if (which === 'store') return sendJson(res, 200, member.store.stats);
  const leader = member.leaderStats();
  if (!leader) return sendJson(res, 403, { message: 'not current leader' });
  sendJson(res, 200, leader);
}
