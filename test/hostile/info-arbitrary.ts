/**
 * Hostile requests to the small endpoints: `/v2/stats/self|leader|store` (with junk suffixes and
 * any method), `/version`, `/health`, `/v2/machines`, `/metrics`, `/deimos/hash` and odd targets.
 */
import fc from 'fast-check';
import { oddText } from './extreme-values.js';
import { HostileRequest } from './hostile-request.js';
import { extraHeadersArb, methodArb, percentEncode } from './keys-arbitrary.js';

const STATS_NAMES = ['self', 'leader', 'store', 'self', 'leader', 'store', '', 'selfx', 'self/', 'self/..', 'Self', '%73elf', 'store/../self', 'x/self', 'leader?x', '..'];
const INFO_PATHS = [
  '/version', '/health', '/v2/machines', '/machines', '/metrics', '/deimos/hash', '/version/', '/Version', '/v2/machines/', '/', '*', '',
  'http://127.0.0.1/version', '/%2e%2e/version', '//version', '/v2', '/v2/', '/v3/kv/range', '/debug/vars', '/raft', '/health/..',
];

function queryArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('?', '?x=1', '?%zz', '?recursive=true', '?&&&=', `?q=${'q'.repeat(70_000)}`) },
    { weight: 1, arbitrary: oddText().map((t) => `?${percentEncode(t)}=${t.length}`) },
  );
}

/** A stats request. */
export function statsRequestArb(members: number): fc.Arbitrary<HostileRequest> {
  return fc.record({
    member: fc.nat(members - 1),
    method: fc.oneof({ weight: 3, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: methodArb() }),
    prefix: fc.constantFrom('/v2/stats/', '/stats/', '/v2/stats//'),
    name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...STATS_NAMES) }, { weight: 1, arbitrary: oddText() }),
    query: queryArb(),
    headers: extraHeadersArb(),
  }).map((r) => new HostileRequest({ family: 'stats', member: r.member, method: r.method, target: `${r.prefix}${r.name}${r.query}`, headers: r.headers }));
}

/** A request to /version, /health, /v2/machines, /metrics or an odd target. */
export function infoRequestArb(members: number): fc.Arbitrary<HostileRequest> {
  return fc.record({
    member: fc.nat(members - 1),
    method: fc.oneof({ weight: 3, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: methodArb() }),
    path: fc.constantFrom(...INFO_PATHS),
    query: queryArb(),
    body: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: oddText() }),
    headers: extraHeadersArb(),
  }).map((r) => new HostileRequest({ family: 'info', member: r.member, method: r.method, target: `${r.path}${r.query}`, headers: r.headers, body: r.body }));
}
