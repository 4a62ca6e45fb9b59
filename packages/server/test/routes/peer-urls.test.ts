/** The members API body, checked as etcd 3.4 checks it (answers recorded from a real etcd 3.4.23). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePeerUrlsBody } from '../../src/routes/peer-urls.js';

const STRUCT = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';

function refusal(body: string): string {
  try {
    return `accepted ${JSON.stringify(parsePeerUrlsBody(body))}`;
  } catch (err) {
    return (err as Error).message;
  }
}

test('JSON errors are json.Unmarshal\'s, for the whole body', () => {
  const cases: Array<[string, string]> = [
    ['', 'unexpected end of JSON input'],
    ['{"peerURLs":["http://127.0.0.1:1"]', 'unexpected end of JSON input'],
    ['{"peerURLs":["ftp://a:1"]} x', "invalid character 'x' after top-level value"],
    ['[]', `json: cannot unmarshal array into Go value of type ${STRUCT}`],
    ['"x"', `json: cannot unmarshal string into Go value of type ${STRUCT}`],
    ['1', `json: cannot unmarshal number into Go value of type ${STRUCT}`],
    ['true', `json: cannot unmarshal bool into Go value of type ${STRUCT}`],
    ['null', 'no valid URLs given'],
    ['{}', 'no valid URLs given'],
    ['{"peerURLs":[]}', 'no valid URLs given'],
    ['{"peerURLs":"x"}', 'json: cannot unmarshal string into Go struct field .peerURLs of type []string'],
    ['{"peerURLs":{}}', 'json: cannot unmarshal object into Go struct field .peerURLs of type []string'],
    ['{"peerURLs":[1]}', 'json: cannot unmarshal number into Go struct field .peerURLs of type string'],
    ['{"peerURLs":[true]}', 'json: cannot unmarshal bool into Go struct field .peerURLs of type string'],
    ['{"peerURLs":[1,"ftp://x"]}', 'json: cannot unmarshal number into Go struct field .peerURLs of type string'],
    ['{"peerURLs":["http://a:1",2]}', 'json: cannot unmarshal number into Go struct field .peerURLs of type string'],
  ];
  for (const [body, want] of cases) assert.equal(refusal(body), want, body);
});

test('each URL needs an http/https/unix/unixs scheme, a host:port address and no path', () => {
  const cases: Array<[string, string]> = [
    ['', 'URL scheme must be http, https, unix, or unixs: '],
    ['not a url', 'URL scheme must be http, https, unix, or unixs: not a url'],
    ['a:1', 'URL scheme must be http, https, unix, or unixs: a:1'],
    ['/x', 'URL scheme must be http, https, unix, or unixs: /x'],
    [' ftp://a:1', 'URL scheme must be http, https, unix, or unixs: ftp://a:1'],
    [':1', 'parse ":1": missing protocol scheme'],
    ['http://127.0.0.1:abc', 'parse "http://127.0.0.1:abc": invalid port ":abc" after host'],
    ['http://[::1', 'parse "http://[::1": missing \']\' in host'],
    ['http://a b:1', 'parse "http://a b:1": invalid character " " in host name'],
    ['http://127.0.0.1', 'URL address does not have the form "host:port": http://127.0.0.1'],
    ['unix://foo', 'URL address does not have the form "host:port": unix://foo'],
    ['http://a:1:2', 'URL address does not have the form "host:port": http://a:1:2'],
    ['http://a:1/', 'URL must not contain a path: http://a:1/'],
    ['http://127.0.0.1:1/path', 'URL must not contain a path: http://127.0.0.1:1/path'],
  ];
  for (const [url, want] of cases) assert.equal(refusal(JSON.stringify({ peerURLs: [url] })), want, url);
  assert.equal(refusal('{"peerURLs":[null]}'), 'URL scheme must be http, https, unix, or unixs: ');
});

test('accepted URLs are trimmed, in Go\'s string form (scheme lower-cased) and sorted', () => {
  assert.deepEqual(parsePeerUrlsBody('{"peerURLs":["http://127.0.0.1:27999"," http://127.0.0.1:27998"]}'), ['http://127.0.0.1:27998', 'http://127.0.0.1:27999']);
  for (const [url, stored] of [
    ['HTTP://a:1', 'http://a:1'], ['http://a:', 'http://a:'], ['http://:1', 'http://:1'], ['http://a:99999', 'http://a:99999'],
    ['https://[::1]:5', 'https://[::1]:5'], ['http://u@a:1', 'http://u@a:1'], ['http://a:1?x=1', 'http://a:1?x=1'], ['unix://a:1', 'unix://a:1'],
  ]) assert.deepEqual(parsePeerUrlsBody(JSON.stringify({ peerURLs: [url] })), [stored], url);
});

test('the field name is matched without regard to case, the last match winning', () => {
  assert.deepEqual(parsePeerUrlsBody('{"peerurls":["http://a:1"]}'), ['http://a:1']);
  assert.equal(refusal('{"PeerURLs":["ftp://b:1"],"peerURLs":["ftp://a:1"]}'), 'URL scheme must be http, https, unix, or unixs: ftp://a:1');
});
