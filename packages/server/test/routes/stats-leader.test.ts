import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveStats } from '../../src/routes/stats-routes.js';
import type { MemberView } from '../../src/routes/member-view.js';
import { NO_SAMPLE_MINIMUM } from '../../src/transport/peer-stats.js';
import { request, startServer } from '../http/support/http-harness.js';

test('/v2/stats/leader writes a never-reached follower\'s minimum as Go writes 2^63', async () => {
  const leaderStats = {
    leader: 'a',
    followers: { b: { latency: { current: 0, average: 0, standardDeviation: 0, minimum: NO_SAMPLE_MINIMUM, maximum: 0 }, counts: { fail: 3, success: 0 } } },
  };
  const member = { leaderStats: async () => leaderStats } as unknown as MemberView;
  const server = await startServer((req, res) => serveStats(member, 'leader', req, res));
  try {
    const reply = await request(server.port, { path: '/v2/stats/leader' });
    assert.equal(reply.status, 200);
    assert.match(reply.body, /"minimum":9223372036854775808,"maximum":0/);
    assert.equal(reply.headers['content-type'], 'application/json');
  } finally {
    await server.close();
  }
});
