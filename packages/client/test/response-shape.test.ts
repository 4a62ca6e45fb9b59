import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidResponseError, keysBody, memberBody, membersBody } from '../src/response-shape.js';

test('keys answers as members send them pass: a key, the root without a key, a listing, a previous node', () => {
  assert.equal(keysBody('{"action":"get","node":{"key":"/a","value":"v","modifiedIndex":2,"createdIndex":2}}').node?.value, 'v');
  assert.equal(keysBody('{"action":"get","node":{"dir":true,"nodes":[{"key":"/d","dir":true,"nodes":[{"key":"/d/x","value":""}]}]}}').node?.dir, true);
  assert.equal(keysBody('{"action":"set","node":{"key":"/a","value":"2","ttl":5,"expiration":"2026-12-05T00:00:00Z"},"prevNode":{"key":"/a","value":"1"}}').prevNode?.value, '1');
  assert.equal(keysBody('{"action":"delete","node":{"key":"/a"}}').action, 'delete');
});

test('anything else is an InvalidResponseError with etcd client\'s words', () => {
  for (const body of ['<html>', '', 'null', '[1]', '{}', '{"action":1}', '{"action":"get","node":"x"}', '{"action":"get","node":{"key":1}}',
    '{"action":"get","node":{"key":"/a","value":{"a":1}}}', '{"action":"get","node":{"key":"/a","nodes":"zz"}}',
    '{"action":"get","node":{"key":"/a","nodes":[{"key":"/a/b","modifiedIndex":"1"}]}}', '{"action":"get","node":{"key":"/a"},"prevNode":[]}']) {
    assert.throws(() => keysBody(body), (err: unknown) => err instanceof InvalidResponseError && /response is invalid json/.test(err.message), body);
  }
});

test('member answers: a member and a list, each member with an id and URL lists', () => {
  assert.equal(memberBody('{"id":"a","name":"n","peerURLs":["http://x:1"],"clientURLs":[]}').id, 'a');
  assert.equal(membersBody('{"members":[{"id":"a","name":"","peerURLs":["http://x:1"],"clientURLs":[]}]}').length, 1);
  for (const body of ['{"members":"oops"}', '{"members":[{"id":1}]}', '{"members":[{"id":"a","peerURLs":"x"}]}', 'null']) {
    assert.throws(() => membersBody(body), InvalidResponseError, body);
  }
  assert.throws(() => memberBody('{"id":"a"}'), InvalidResponseError);
});
