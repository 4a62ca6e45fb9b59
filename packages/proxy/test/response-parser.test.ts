/** Table tests of the member response parser: framing, split input, interim responses, bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, ResponseParseError, type ResponseHead } from '../src/response-parser.js';

interface Parsed {
  head?: ResponseHead;
  body: string;
  completed: number;
}

function parser(noBody = false): { p: ResponseParser; out: Parsed } {
  const out: Parsed = { body: '', completed: 0 };
  const p = new ResponseParser({
    head: (h) => (out.head = h),
    body: (c) => (out.body += c.toString('latin1')),
    complete: () => (out.completed += 1),
  });
  p.reset(noBody);
  return { p, out };
}

/** Feeds `text` in pieces of `size` bytes. */
function feed(p: ResponseParser, text: string, size: number): void {
  const bytes = Buffer.from(text, 'latin1');
  for (let i = 0; i < bytes.length; i += size) p.execute(bytes.subarray(i, i + size));
}

const FIXED = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Etcd-Index: 7\r\nContent-Length: 11\r\nKeep-Alive: timeout=5\r\n\r\n{"a":"b12"}';
const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n';

test('parses a Content-Length response whole and split at every size', () => {
  for (const size of [1, 2, 3, 7, 50, 1000]) {
    const { p, out } = parser();
    feed(p, FIXED, size);
    assert.equal(out.head?.status, 200, `size ${size}`);
    assert.deepEqual(out.head?.rawHeaders.slice(2, 4), ['X-Etcd-Index', '7']);
    assert.equal(out.head?.keepAliveTimeoutMs, 5000);
    assert.equal(out.head?.streaming, false);
    assert.equal(out.body, '{"a":"b12"}');
    assert.equal(out.completed, 1);
    assert.ok(p.done);
  }
});

test('decodes a chunked body (extensions and trailers dropped) split at every size', () => {
  for (const size of [1, 2, 4, 9, 1000]) {
    const { p, out } = parser();
    feed(p, CHUNKED, size);
    assert.equal(out.body, 'hello world', `size ${size}`);
    assert.equal(out.head?.streaming, true);
    assert.equal(out.completed, 1);
  }
});

test('a chunked stream reports each chunk as it arrives, before the end', () => {
  const { p, out } = parser();
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nevent1\r\n'));
  assert.equal(out.body, 'event1');
  assert.equal(out.completed, 0);
});

test('HEAD, 204 and 304 responses have no body whatever their headers say', () => {
  const head = parser(true);
  head.p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n'));
  assert.equal(head.out.completed, 1);
  for (const status of ['204 No Content', '304 Not Modified']) {
    const { p, out } = parser();
    p.execute(Buffer.from(`HTTP/1.1 ${status}\r\n\r\n`));
    assert.equal(out.completed, 1, status);
  }
});

test('skips an interim 100 Continue and parses the real response', () => {
  const { p, out } = parser();
  p.execute(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'));
  assert.equal(out.head?.status, 201);
  assert.equal(out.body, 'ok');
});

test('a body without length or chunking ends with the connection', () => {
  const { p, out } = parser();
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\npart1'));
  p.execute(Buffer.from('part2'));
  assert.equal(out.head?.close, true);
  assert.equal(out.completed, 0);
  assert.equal(p.endOfStream(), true);
  assert.equal(out.body, 'part1part2');
  assert.equal(out.completed, 1);
});

test('a Content-Length body cut short is reported as incomplete at end of stream', () => {
  const { p, out } = parser();
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(p.endOfStream(), false);
  assert.equal(out.completed, 0);
});

test('Connection: close and HTTP/1.0 mark the connection as not reusable', () => {
  const close = parser();
  close.p.execute(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(close.out.head?.close, true);
  const old = parser();
  old.p.execute(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(old.out.head?.close, true);
  const kept = parser();
  kept.p.execute(Buffer.from('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(kept.out.head?.close, false);
});

test('rejects malformed responses', () => {
  const bad = [
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab',
  ];
  for (const text of bad) {
    const { p } = parser();
    assert.throws(() => p.execute(Buffer.from(text)), ResponseParseError, JSON.stringify(text));
  }
});
