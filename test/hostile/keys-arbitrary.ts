/**
 * Hostile keys API requests: any method, paths with Unicode, percent escapes (malformed ones too),
 * `.`/`..`, `//`, keys at and past the 8 KiB limit and thousands of levels deep, every parameter
 * the API knows with extreme values, in the query, a form body, JSON or junk bodies.
 */
import fc from 'fast-check';
import { BOOLEAN_SPELLINGS, numberText, oddText, paramValue } from './extreme-values.js';
import { HostileRequest } from './hostile-request.js';

/** Methods: the API's own most of the time, HEAD/PATCH and odd tokens otherwise. */
export function methodArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE') },
    { weight: 2, arbitrary: fc.constantFrom('HEAD', 'PATCH', 'OPTIONS', 'TRACE', 'get', 'Put', 'FOO', 'PROPFIND', 'M-SEARCH', 'CONNECT', 'X'.repeat(300)) },
  );
}

/** Percent-encodes every byte of the UTF-8 form except the unreserved ones (lone surrogates become U+FFFD). */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const ODD_SEGMENTS = [
  '.', '..', '', '_deimos', '_deimos/machines', '_hidden', '%2F', '%2f..', '%2e', '%2e%2e', '%zz', '%', '%2', '%00', '%C3%28',
  '%E2%82', '%ED%A0%80', '%25', '%7F', '%FF', 'é', '%C3%A9', '💥', '\ud800', '?', '#', ';x=1', 'a%20b', '*', '~', '\\', '..%2F..',
];

function segmentArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9]{1,6}$/) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_SEGMENTS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom(4_000, 8_185, 8_186, 8_192, 8_193, 9_000, 20_000, 70_000).map((n) => 'k'.repeat(n)) },
  );
}

/** A key path after the API prefix: shallow with odd segments, or thousands of levels deep. */
export function keyPathArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(fc.array(segmentArb(), { maxLength: 5 }), fc.boolean()).map(([segs, slash]) => `/${segs.join('/')}${slash ? '/' : ''}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(10, 100, 1_000, 2_700, 4_000, 5_000), fc.constantFrom('d', 'deep', '', '.', '..')).map(([n, s]) => `/${s}`.repeat(n)) },
  );
}

const BOOLEAN_PARAMS = ['prevExist', 'prevExists', 'dir', 'recursive', 'sorted', 'refresh', 'noValueOnSuccess', 'quorum', 'serializable', 'consistent'];
const NUMBER_PARAMS = ['ttl', 'prevIndex', 'waitIndex'];

/** One parameter: a known name with a value that suits it (mostly), or anything. */
function paramArb(): fc.Arbitrary<readonly [string, string]> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...NUMBER_PARAMS), fc.oneof({ weight: 4, arbitrary: numberText() }, { weight: 1, arbitrary: paramValue() })) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...BOOLEAN_PARAMS), fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...BOOLEAN_SPELLINGS) }, { weight: 1, arbitrary: paramValue() })) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('value', 'prevValue'), fc.oneof(paramValue(), fc.constant('x'))) },
    { weight: 1, arbitrary: fc.tuple(oddText(), paramValue()) },
  );
}

/** A bounded watch: `wait`/`stream` with or without a waitIndex; the request is aborted after a short deadline. */
function watchArb(): fc.Arbitrary<Array<readonly [string, string]>> {
  return fc.tuple(
    fc.constantFrom('wait', 'stream'),
    fc.constantFrom('true', '1', 'false', 'maybe', ''),
    fc.option(numberText(), { nil: undefined }),
  ).map(([name, on, index]) => [[name, on] as const, ...(index === undefined ? [] : [['waitIndex', index] as const])]);
}

/** Where the parameters go and how they are encoded. */
type Placement = 'query' | 'form' | 'both' | 'json' | 'junk';

function encodeParams(params: ReadonlyArray<readonly [string, string]>, raw: boolean): string {
  const enc = raw ? (s: string) => s : percentEncode;
  return params.map(([n, v]) => `${enc(n)}=${enc(v)}`).join('&');
}

const FORM_TYPES = ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED', 'application/x-www-form-urlencoded; charset=utf-16'];
const JUNK_TYPES = ['text/plain', 'multipart/form-data; boundary=zz', 'application/octet-stream', '', ';;;', 'application/json; charset=ebcdic', '\u00ff/\u00ff'];

/** Extra headers: mostly none, sometimes CORS, keep-alive choices, Expect, huge ones. */
export function extraHeadersArb(): fc.Arbitrary<Array<readonly [string, string]>> {
  const ordinary = fc.constantFrom<readonly [string, string]>(
    ['Accept', '*/*'], ['Connection', 'close'], ['Connection', 'keep-alive'], ['Origin', 'http://evil.example'],
    ['X-Forwarded-For', '1.2.3.4'], ['Expect', '100-continue'], ['Accept-Encoding', 'gzip, br'], ['X-Etcd-Cluster-Id', 'ffffffffffffffff'],
    ['Authorization', 'Basic Og=='], ['Content-Type', 'application/json'],
  );
  const huge = fc.constantFrom<readonly [string, string]>(['Cookie', 'c'.repeat(8_000)], ['X-Huge', 'h'.repeat(70_000)]);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Array<readonly [string, string]>>([]) },
    { weight: 2, arbitrary: fc.array(fc.oneof({ weight: 10, arbitrary: ordinary }, { weight: 1, arbitrary: huge }), { minLength: 1, maxLength: 2 }) },
  );
}

/** A keys API request. */
export function keysRequestArb(members: number): fc.Arbitrary<HostileRequest> {
  return fc.record({
    member: fc.nat(members - 1),
    method: methodArb(),
    prefix: fc.constantFrom('/v2/keys', '/v2/keys', '/v2/keys', '/keys', '/v2/keys/', '/v2//keys', '/v2/keysx', '/V2/keys'),
    path: keyPathArb(),
    params: fc.array(paramArb(), { maxLength: 4 }),
    watch: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: watchArb() }),
    placement: fc.constantFrom<Placement>('query', 'query', 'form', 'form', 'both', 'json', 'junk'),
    rawQuery: fc.boolean(),
    formType: fc.constantFrom(...FORM_TYPES),
    junkType: fc.constantFrom(...JUNK_TYPES),
    headers: extraHeadersArb(),
  }).map((r) => {
    const inQuery = r.placement === 'query' || r.placement === 'both' ? [...r.params] : [];
    const watch = r.watch ?? [];
    const query = encodeParams([...inQuery, ...watch], r.rawQuery);
    const target = `${r.prefix}${r.path}${query === '' ? '' : `?${query}`}`;
    const headers = [...r.headers];
    let body: string | undefined;
    if (r.placement === 'form' || r.placement === 'both') {
      body = encodeParams(r.params, r.rawQuery);
      headers.push(['Content-Type', r.formType]);
    } else if (r.placement === 'json') {
      body = JSON.stringify(Object.fromEntries(r.params));
      headers.push(['Content-Type', 'application/json']);
    } else if (r.placement === 'junk') {
      body = r.params.length === 0 ? '\u0000\u00ff{' : encodeParams(r.params, true);
      if (r.junkType !== '') headers.push(['Content-Type', r.junkType]);
    }
    return new HostileRequest({ family: 'keys', member: r.member, method: r.method, target, headers, body, mayHang: watch.length > 0 });
  });
}
