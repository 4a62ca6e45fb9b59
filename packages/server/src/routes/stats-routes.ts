/** `/v2/stats/self`, `/v2/stats/leader` and `/v2/stats/store` (also under `/stats/`). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemberView } from './member-view.js';
import { isRemoteKeys } from './keys-access.js';
import { sendBody, sendJson, sendMethodNotAllowed } from './respond.js';
import { NO_SAMPLE_MINIMUM } from '../transport/peer-stats.js';
import { writeNotFound } from '../http/method-guard.js';

/** Serves one stats endpoint; `which` is the last path segment. */
export async function serveStats(member: MemberView, which: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (which !== 'self' && which !== 'leader' && which !== 'store') return writeNotFound(res);
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  if (which === 'self') return sendJson(res, 200, await member.selfStats());
  if (which === 'store') return sendJson(res, 200, isRemoteKeys(member.keys) ? await member.keys.stats() : member.keys.stats);
  const leader = await member.leaderStats();
  if (!leader) return sendJson(res, 403, { message: 'not current leader' });
  // A follower never reached has `minimum` 2^63 (see NO_SAMPLE_MINIMUM): Go writes it in full,
  // JavaScript as 9223372036854776000.
  sendBody(res, 200, 'application/json', JSON.stringify(leader).replaceAll(`"minimum":${NO_SAMPLE_MINIMUM}`, `"minimum":${GO_NO_SAMPLE_MINIMUM}`));
}

const GO_NO_SAMPLE_MINIMUM = '9223372036854775808';
