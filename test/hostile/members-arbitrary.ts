/**
 * Hostile members API requests: POST/PUT bodies with random JSON, deep nesting, wrong types, huge
 * arrays and bad URLs, and DELETE/PUT on random ids. Valid-looking peer URLs only ever point at
 * loopback ports nothing listens on (a POST may be accepted, and the members then dial the URL).
 * Random 16-hex ids never name a real member, so no generated request removes one.
 */
import fc from 'fast-check';
import { numberText, oddText } from './extreme-values.js';
import { HostileRequest } from './hostile-request.js';
import { extraHeadersArb } from './keys-arbitrary.js';

const UNREACHABLE_URLS = [
  'http://127.0.0.1:1', 'https://127.0.0.1:1', 'http://[::1]:9', 'unix://127.0.0.1:1', 'unixs://127.0.0.1:7', 'http://localhost:1/',
  'http://127.0.0.1:1/a/b?c#d', 'http://user:pw@127.0.0.1:9', 'HTTP://127.0.0.1:7', `http://127.0.0.1:1${'/x'.repeat(3_000)}`,
];
const BAD_URLS = [
  '', 'ftp://127.0.0.1:1', 'http://', 'http:///x', '127.0.0.1:1', 'http://127.0.0.1:99999', 'http://127.0.0.1:-1', 'http://[::1',
  '\u0000', 'javascript:alert(1)', 'http://127.0.0.1:1\u0000', 'http://%zz', 'http://\ud800:1', ' http://127.0.0.1:1',
];

function peerUrlArb(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...UNREACHABLE_URLS) },
    { weight: 3, arbitrary: fc.constantFrom(...BAD_URLS) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(null, 1, -1, 9007199254740993, 1e400, true, {}, [], [[]], { peerURLs: [] }) },
    { weight: 2, arbitrary: oddText() },
  );
}

/** Bracket nesting `depth` levels deep (unterminated when `closed` is false), optionally as the value of peerURLs. */
function deepJson(depth: number, inField: boolean, open: '[' | '{"a":', closed: boolean): string {
  const close = open === '[' ? ']' : '}';
  const core = closed ? `${open.repeat(depth)}${open === '[' ? '' : '1'}${close.repeat(depth)}` : open.repeat(depth);
  return inField ? `{"peerURLs":${core}}` : core;
}

/** A members POST/PUT body. */
export function memberBodyArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(peerUrlArb(), { maxLength: 3 }).map((peerURLs) => JSON.stringify({ peerURLs })) },
    {
      weight: 1,
      arbitrary: fc.record({ peerURLs: fc.array(peerUrlArb(), { maxLength: 2 }), name: oddText(), id: numberText(), clientURLs: fc.array(peerUrlArb(), { maxLength: 2 }) })
        .map((o) => JSON.stringify(o)),
    },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(10, 1_000, 10_000, 30_000, 32_000, 65_000), fc.boolean(), fc.constantFrom<'[' | '{"a":'>('[', '{"a":'), fc.boolean())
        .map(([d, inField, open, closed]) => deepJson(d, inField, open, closed)),
    },
    { weight: 1, arbitrary: fc.constantFrom(100, 2_000, 100_000).map((n) => JSON.stringify({ peerURLs: Array.from({ length: n }, () => 'http://127.0.0.1:1') })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '', '{', '{"peerURLs":', 'null', '[]', '"x"', '\ufeff{"peerURLs":["http://127.0.0.1:1"]}', '{"peerURLs":["http://127.0.0.1:9"]} trailing',
        '{"peerURLs":["http://127.0.0.1:9"]}{"a":1}', '{"peerURLs":"http://127.0.0.1:1"}', '{"peerURLs":["\\ud800"]}',
        '{"peerURLs":["http://127.0.0.1:1"],"peerURLs":[]}', '{"peerURLs":[1e999]}', '{"peerURLs":[9007199254740993]}', '{"PEERURLS":["http://127.0.0.1:7"]}',
      ),
    },
    { weight: 1, arbitrary: oddText() },
  );
}

const JUNK_IDS = ['leader', '', '0', 'zz', '-1', '18446744073709551615', '18446744073709551616', 'ffffffffffffffff', '0000000000000000001', '%2e%2e', '..', 'k'.repeat(9_000), '💥'];

/** A members API request. */
export function membersRequestArb(members: number): fc.Arbitrary<HostileRequest> {
  return fc.record({
    member: fc.nat(members - 1),
    method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'PATCH', 'OPTIONS', 'FOO') }),
    prefix: fc.constantFrom('/v2/members', '/v2/members', '/members', '/v2/members/'),
    id: fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[0-9a-f]{16}$/) }, { weight: 2, arbitrary: fc.constantFrom(...JUNK_IDS) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    body: fc.option(memberBodyArb(), { nil: undefined, freq: 6 }),
    contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', ''),
    headers: extraHeadersArb(),
  }).map((r) => {
    const withId = r.method !== 'POST' && r.method !== 'GET' ? r.id !== undefined : r.id === '' || r.id === 'leader';
    const target = withId ? `${r.prefix.replace(/\/$/, '')}/${r.id}` : r.prefix;
    const headers = [...r.headers];
    if (r.body !== undefined && r.contentType !== '') headers.push(['Content-Type', r.contentType]);
    return new HostileRequest({ family: 'members', member: r.member, method: r.method, target, headers, body: r.body });
  });
}
