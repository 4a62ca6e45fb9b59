/**
 * The proxy decides which requests are watches with @deimos/protocol's goQueryFirst and goParseBool
 * (it may not import the server); this checks that they agree with the member's own parsing
 * (goParseQuery and parseKeysRequest) on every spelling of `wait` a client might send.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goParseBool, goQueryFirst } from '@deimos/protocol';
import { goParseQuery } from '../../src/http/go-url.js';
import { parseKeysRequest } from '../../src/http/keys-request.js';

const VALUES = ['true', 'True', 'TRUE', 't', 'T', '1', 'false', 'False', 'FALSE', 'f', 'F', '0', '', 'yes', 'tRUE', 'true ', '%74rue', 'tru%65', '%31', '+1', '1+', '%zz', 'true%00', '%C3%A9'];
const QUERIES = [
  '', 'wait', 'wait=', 'w%61it=1', 'W%41IT=1', 'wait=0&wait=1', 'wait=T&wait=false', '&&wait=1&', 'wait=1;x=2&wait=1', 'wait;=true',
  'wait=%zz&wait=1', 'w+ait=0&wait=True', 'waits=true', 'x=wait%3Dtrue', 'wait%3D1', '%77%61%69%74=%74', 'recursive=true&wait=t&stream=true',
  ...VALUES.map((v) => `wait=${v}`),
];

test('goQueryFirst finds the same first value as Go ParseQuery', () => {
  for (const q of QUERIES) {
    const go = goParseQuery(q).values.get('wait')?.[0];
    const ours = goQueryFirst(q, 'wait');
    if (go === undefined || ours === undefined) assert.equal(ours, go, q);
    else assert.equal(goParseBool(ours), goParseBool(go), q); // non-ASCII bytes are spelled differently, never a bool word
  }
});

test('a GET the member treats as a watch is exactly one whose first wait value parses true', () => {
  for (const q of QUERIES) {
    const wait = goQueryFirst(q, 'wait');
    const proxySaysWatch = wait !== undefined && goParseBool(wait) === true;
    let memberSaysWatch: boolean;
    try {
      const r = parseKeysRequest({ method: 'GET', rawUrl: `/v2/keys/a?${q}`, body: undefined, contentType: undefined });
      memberSaysWatch = 'kind' in r && r.kind === 'watch';
    } catch {
      // Answered with an error at once: the proxy may count it as a watch (it only loses pipelining).
      continue;
    }
    assert.equal(proxySaysWatch, memberSaysWatch, q);
  }
});

test('goParseBool is Go strconv.ParseBool', () => {
  assert.deepEqual(['1', 't', 'T', 'TRUE', 'true', 'True'].map(goParseBool), [true, true, true, true, true, true]);
  assert.deepEqual(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(goParseBool), [false, false, false, false, false, false]);
  assert.deepEqual(['', 'yes', 'tRUE', ' true', 'on', '2'].map(goParseBool), [undefined, undefined, undefined, undefined, undefined, undefined]);
});
