import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatExtended, formatJson, formatLs, formatResponse, formatServerError, formatSimple, formatWatchEvent } from '../src/format.js';

const file = { key: '/foo', value: 'bar', modifiedIndex: 5, createdIndex: 4 };

test('simple output prints the value, PrevNode.Value for a delete and an empty line for compareAndDelete', () => {
  assert.equal(formatSimple({ action: 'get', node: file, etcdIndex: 5 }), 'bar\n');
  assert.equal(formatSimple({ action: 'delete', node: { key: '/foo', modifiedIndex: 6, createdIndex: 4 }, prevNode: file, etcdIndex: 6 }), 'PrevNode.Value: bar\n');
  assert.equal(formatSimple({ action: 'compareAndDelete', node: { key: '/foo', modifiedIndex: 6, createdIndex: 4 }, prevNode: file, etcdIndex: 6 }), '\n');
});

test('extended output has etcdctl\'s headers, PrevNode.Value when there is one, and no value for a delete', () => {
  assert.equal(formatExtended({ action: 'get', node: { ...file, ttl: 9, expiration: 'x' }, etcdIndex: 8 }),
    'Key: /foo\nCreated-Index: 4\nModified-Index: 5\nTTL: 9\nIndex: 8\n\nbar\n');
  assert.equal(formatExtended({ action: 'delete', node: { key: '/foo', modifiedIndex: 6, createdIndex: 4 }, prevNode: file, etcdIndex: 6 }),
    'Key: /foo\nCreated-Index: 4\nModified-Index: 6\nPrevNode.Value: bar\nTTL: 0\nIndex: 6\n');
});

test('json output follows Go\'s field order with nodes and prevNode null', () => {
  assert.equal(formatJson({ action: 'get', node: file, etcdIndex: 5 }),
    '{"action":"get","node":{"key":"/foo","value":"bar","nodes":null,"createdIndex":4,"modifiedIndex":5},"prevNode":null}\n');
  const dir = { key: '/d', dir: true as const, nodes: [{ ...file, expiration: '2030-01-01T00:00:00Z', ttl: 3 }], modifiedIndex: 2, createdIndex: 2 };
  assert.equal(formatJson({ action: 'get', node: dir, prevNode: file, etcdIndex: 5 }),
    '{"action":"get","node":{"key":"/d","dir":true,"value":"","nodes":[{"key":"/foo","value":"bar","nodes":null,"createdIndex":4,"modifiedIndex":5,"expiration":"2030-01-01T00:00:00Z","ttl":3}],"createdIndex":2,"modifiedIndex":2},'
    + '"prevNode":{"key":"/foo","value":"bar","nodes":null,"createdIndex":4,"modifiedIndex":5}}\n');
});

test('ls lists a file as itself and a directory\'s children recursively, -p marking directories', () => {
  const tree = { key: '/d', dir: true as const, nodes: [{ key: '/d/a', value: '1' }, { key: '/d/e', dir: true as const, nodes: [{ key: '/d/e/f', value: '2' }] }] };
  assert.equal(formatLs({ action: 'get', node: tree, etcdIndex: 1 }), '/d/a\n/d/e\n/d/e/f\n');
  assert.equal(formatLs({ action: 'get', node: tree, etcdIndex: 1 }, { slashDirs: true }), '/d/a\n/d/e/\n/d/e/f\n');
  assert.equal(formatLs({ action: 'get', node: file, etcdIndex: 1 }), '/foo\n');
  assert.equal(formatLs({ action: 'get', node: { dir: true }, etcdIndex: 1 }), '');
});

test('watch events get an [action] key line when recursive', () => {
  assert.equal(formatWatchEvent({ action: 'set', node: file, etcdIndex: 5 }, 'simple', { recursive: true }), '[set] /foo\nbar\n');
  assert.equal(formatWatchEvent({ action: 'set', node: file, etcdIndex: 5 }, 'simple'), 'bar\n');
  assert.equal(formatResponse({ action: 'set', node: file, etcdIndex: 5 }, 'json').startsWith('{"action":"set"'), true);
});

test('server errors are formatted as etcd\'s client does: code: message (cause) [index]', () => {
  assert.equal(formatServerError({ errorCode: 100, message: 'Key not found', cause: '/foo', index: 7 }), '100: Key not found (/foo) [7]');
  assert.equal(formatServerError({ errorCode: 300, message: 'Raft Internal Error', cause: undefined }), '300: Raft Internal Error () [0]');
});
