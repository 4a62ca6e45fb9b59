import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasBareLf, keepsAlive, parseRequestHead, plainBodyLength } from '../src/http/request-head.js';
import { GO_BAD_REQUEST_ANSWER, goRequestRefusal, hasMalformedPathEscape } from '../src/http/go-bad-request.js';

test('parses the request line and headers of a request head, names lowercased', () => {
  const head = parseRequestHead('GET /v2/keys/a?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin:  http://x \r\nCONNECTION: close');
  assert.deepEqual(head && { ...head, headers: Object.fromEntries(head.headers) }, {
    method: 'GET', url: '/v2/keys/a?wait=true', version: 'HTTP/1.1',
    headers: { host: '127.0.0.1', origin: 'http://x', connection: 'close' },
  });
});

test('leaves anything unusual to node:http', () => {
  assert.equal(parseRequestHead('GET /a HTTP/2.0\r\nHost: x'), undefined, 'other versions');
  assert.equal(parseRequestHead('get /a HTTP/1.1\r\nHost: x'), undefined, 'lowercase method');
  assert.equal(parseRequestHead('GET  /a HTTP/1.1\r\nHost: x'), undefined, 'odd spacing');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\nno colon here'), undefined, 'a malformed header line');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\nX: 1\r\nx: 2'), undefined, 'duplicate headers');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\n: empty name'), undefined, 'an empty header name');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\nX: 1\r\n  folded'), undefined, 'a folded line');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\nX Y: 1'), undefined, 'a space in a name');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nX: 1'), undefined, 'HTTP/1.1 without Host (Go answers 400)');
  assert.equal(parseRequestHead('GET /a HTTP/1.0\r\nX: 1')?.version, 'HTTP/1.0', 'HTTP/1.0 needs no Host');
});

test('refuses control characters in values and targets; raw bytes past ASCII in a target are percent-encoded', () => {
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\nX: a\x01b'), undefined, 'a control character in a value');
  assert.equal(parseRequestHead('GET /a HTTP/1.1\r\nHost: x\r\nX: a\rb'), undefined, 'a bare CR in a value');
  assert.equal(parseRequestHead('GET /caf\xc3\xa9?v=\xff HTTP/1.1\r\nHost: x')?.url, '/caf%C3%A9?v=%FF', 'raw bytes as Go reads them');
  assert.equal(parseRequestHead('GET /a\x7f HTTP/1.1\r\nHost: x'), undefined, 'DEL in the target');
  assert.deepEqual(parseRequestHead('PUT /a?b=%20 HTTP/1.0\r\nX: \ttabbed\t')?.headers.get('x'), 'tabbed');
  assert.equal(parseRequestHead('PUT /a?b=%20 HTTP/1.0')?.version, 'HTTP/1.0');
});

test('reads the body length of the plain form only', () => {
  const h = (text: string) => parseRequestHead(`PUT /a HTTP/1.1\r\nHost: x${text}`)!.headers;
  assert.equal(plainBodyLength(h('')), 0);
  assert.equal(plainBodyLength(h('\r\nContent-Length: 12')), 12);
  assert.equal(plainBodyLength(h('\r\nContent-Length: 1x')), -1, 'not decimal');
  assert.equal(plainBodyLength(h('\r\nContent-Length: 1234567890123456')), -1, 'too long');
  assert.equal(plainBodyLength(h('\r\nTransfer-Encoding: chunked')), -1, 'chunked');
  assert.equal(plainBodyLength(h('\r\nExpect: 100-continue\r\nContent-Length: 3')), -1, 'Expect');
});

test('keeps connections alive as HTTP/1.0 and 1.1 define, and leaves other Connection values', () => {
  const k = (line: string) => keepsAlive(parseRequestHead(line)!);
  assert.equal(k('GET /a HTTP/1.1\r\nHost: x'), true);
  assert.equal(k('GET /a HTTP/1.1\r\nHost: x\r\nConnection: Close'), false);
  assert.equal(k('GET /a HTTP/1.0'), false);
  assert.equal(k('GET /a HTTP/1.0\r\nConnection: keep-alive'), true);
  assert.equal(k('GET /a HTTP/1.1\r\nHost: x\r\nConnection: upgrade'), undefined);
});

test('finds a line ended by a bare LF in a head still waiting for its blank line', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  assert.equal(hasBareLf(bytes('GET / HTTP/1.1\nHost: x\n\n')), true);
  assert.equal(hasBareLf(bytes('\nGET / HTTP/1.1')), true, 'an LF first');
  assert.equal(hasBareLf(bytes('GET / HTTP/1.1\r\nHost: x\r\n')), false);
  assert.equal(hasBareLf(bytes('GET / HTTP/1.1\r')), false, 'a CR whose LF has not arrived yet');
});

test("Go's Host refusal: none in HTTP/1.1, or two in any version; HTTP/1.0 and CONNECT need none", () => {
  const req = (rawHeaders: string[], minor = 1, method = 'GET') => ({ method, httpVersionMajor: 1, httpVersionMinor: minor, rawHeaders });
  assert.match(goRequestRefusal(req([])) ?? '', /^HTTP\/1\.1 400 Bad Request: missing required Host header\r\n/);
  assert.match(goRequestRefusal(req(['Host', 'a', 'HOST', 'b'], 0)) ?? '', /too many Host headers$/);
  assert.equal(goRequestRefusal(req(['host', 'a'])), undefined);
  assert.equal(goRequestRefusal(req([], 0)), undefined);
  assert.equal(goRequestRefusal(req([], 1, 'CONNECT')), undefined);
});

test("Go's bare 400 for a malformed escape in the target's path (not in its query), before the version and Host checks", () => {
  for (const bad of ['/v2/keys/%zz', '/v2/keys/a%2', '/v2/keys/a%', '/%4g', '/a%?x=1', 'http://h/%zz']) assert.equal(hasMalformedPathEscape(bad), true, bad);
  for (const good of ['/v2/keys/a', '/v2/keys/%41%2F%e2%82%ac', '/v2/keys/a?x=%zz', '/a?%', '/%2F?v=%']) assert.equal(hasMalformedPathEscape(good), false, good);
  const req = (url: string, major = 1, rawHeaders: string[] = []) => ({ method: 'GET', url, httpVersionMajor: major, httpVersionMinor: 1, rawHeaders });
  assert.equal(goRequestRefusal(req('/v2/keys/%zz')), GO_BAD_REQUEST_ANSWER);
  assert.equal(goRequestRefusal(req('/v2/keys/%zz', 2)), GO_BAD_REQUEST_ANSWER);
  assert.equal(goRequestRefusal(req('/v2/keys/a?x=%zz', 1, ['Host', 'h'])), undefined);
  assert.equal(GO_BAD_REQUEST_ANSWER, 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
});
