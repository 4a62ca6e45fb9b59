import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError, type EventJSON, type NodeJSON } from '@deimos/protocol';
import { toGoJson, goJsonString, eventToGoJson, nodeToGoJson } from '../../src/http/go-json.js';
import { renderEventBody, renderErrorBody, eventStatus } from '../../src/http/write-response.js';

describe('Go string escaping', () => {
  const rows: Array<[string, string, string]> = [
    ['escapes HTML characters as Go does', '<a href="x">&</a>', '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"'],
    ['escapes U+2028 and U+2029', 'a\u2028b\u2029c', '"a\\u2028b\\u2029c"'],
    ['writes backspace and form feed as \\u escapes', 'a\bb\fc', '"a\\u0008b\\u000cc"'],
    ['keeps the short escapes for newline, return and tab', 'a\nb\rc\td', '"a\\nb\\rc\\td"'],
    ['writes other control characters in lower-case hex', '\u0001\u001f', '"\\u0001\\u001f"'],
    ['does not mistake an escaped backslash before b for a backspace', '\\b\\f\\u2028', '"\\\\b\\\\f\\\\u2028"'],
    ['leaves DEL and non-ASCII text raw', '\u007fé€😀', '"\u007fé€😀"'],
    ['writes a lone surrogate as U+FFFD', 'a\ud800b\udc00', '"a\\ufffdb\\ufffd"'],
    ['keeps a surrogate pair', '\ud83d\ude00', '"😀"'],
    ['escapes quotes and backslashes', '"\\', '"\\"\\\\"'],
    ['writes an empty string', '', '""'],
  ];
  for (const [title, input, want] of rows) {
    test(title, () => assert.equal(goJsonString(input), want));
  }
  test('toGoJson keeps insertion order and leaves out undefined fields', () => {
    assert.equal(toGoJson({ b: 1, a: '<', c: undefined, d: [true, null] }), '{"b":1,"a":"\\u003c","d":[true,null]}');
  });
});

const file = (key: string, value: string, index: number): NodeJSON => ({ key, value, modifiedIndex: index, createdIndex: index });

describe('golden event bodies', () => {
  test('a set that replaced a node has node and prevNode and ends with a newline', () => {
    const ev: EventJSON = { action: 'set', node: file('/a', '<b>&', 5), prevNode: file('/a', 'x', 4) };
    assert.equal(
      renderEventBody(ev),
      '{"action":"set","node":{"key":"/a","value":"\\u003cb\\u003e\\u0026","modifiedIndex":5,"createdIndex":5},' +
        '"prevNode":{"key":"/a","value":"x","modifiedIndex":4,"createdIndex":4}}\n',
    );
  });
  test('a file with an empty value keeps the value field', () => {
    assert.equal(nodeToGoJson(file('/e', '', 3)), '{"key":"/e","value":"","modifiedIndex":3,"createdIndex":3}');
  });
  test('fields come out in etcd order whatever order the node was built in', () => {
    const node = { createdIndex: 2, modifiedIndex: 9, ttl: 5, expiration: '2026-11-26T08:20:12.78053Z', value: 'v', key: '/t' } as NodeJSON;
    assert.equal(
      nodeToGoJson(node),
      '{"key":"/t","value":"v","expiration":"2026-11-26T08:20:12.78053Z","ttl":5,"modifiedIndex":9,"createdIndex":2}',
    );
  });
  test('a ttl of zero is left out and a negative ttl is written', () => {
    const base = { key: '/t', value: '', expiration: '2026-01-01T00:00:00Z', modifiedIndex: 1, createdIndex: 1 };
    assert.equal(nodeToGoJson({ ...base, ttl: 0 }), '{"key":"/t","value":"","expiration":"2026-01-01T00:00:00Z","modifiedIndex":1,"createdIndex":1}');
    assert.equal(nodeToGoJson({ ...base, ttl: -1 }), '{"key":"/t","value":"","expiration":"2026-01-01T00:00:00Z","ttl":-1,"modifiedIndex":1,"createdIndex":1}');
  });
  test('an empty directory has no nodes field', () => {
    assert.equal(nodeToGoJson({ key: '/d', dir: true, nodes: [], modifiedIndex: 4, createdIndex: 4 }), '{"key":"/d","dir":true,"modifiedIndex":4,"createdIndex":4}');
  });
  test('the root listing has no key and no indexes', () => {
    const ev: EventJSON = {
      action: 'get',
      node: { dir: true, nodes: [file('/a', '1', 3), { key: '/d', dir: true, modifiedIndex: 4, createdIndex: 4 }] },
    };
    assert.equal(
      renderEventBody(ev),
      '{"action":"get","node":{"dir":true,"nodes":[{"key":"/a","value":"1","modifiedIndex":3,"createdIndex":3},' +
        '{"key":"/d","dir":true,"modifiedIndex":4,"createdIndex":4}]}}\n',
    );
  });
  test('an empty root is a bare directory', () => {
    assert.equal(renderEventBody({ action: 'get', node: { dir: true } }), '{"action":"get","node":{"dir":true}}\n');
  });
  test('nested listings recurse in order', () => {
    const ev: EventJSON = { action: 'get', node: { key: '/d', dir: true, nodes: [{ key: '/d/e', dir: true, nodes: [file('/d/e/f', 'x', 7)], modifiedIndex: 6, createdIndex: 6 }], modifiedIndex: 5, createdIndex: 5 } };
    assert.equal(
      eventToGoJson(ev),
      '{"action":"get","node":{"key":"/d","dir":true,"nodes":[{"key":"/d/e","dir":true,"nodes":[{"key":"/d/e/f","value":"x","modifiedIndex":7,"createdIndex":7}],"modifiedIndex":6,"createdIndex":6}],"modifiedIndex":5,"createdIndex":5}}',
    );
  });
  test('a delete node has no value', () => {
    const ev: EventJSON = { action: 'delete', node: { key: '/a', modifiedIndex: 8, createdIndex: 5 }, prevNode: file('/a', 'v', 5) };
    assert.equal(renderEventBody(ev), '{"action":"delete","node":{"key":"/a","modifiedIndex":8,"createdIndex":5},"prevNode":{"key":"/a","value":"v","modifiedIndex":5,"createdIndex":5}}\n');
  });
  test('noValueOnSuccess leaves only the action for value writes', () => {
    for (const action of ['set', 'update', 'create', 'compareAndSwap'] as const) {
      assert.equal(renderEventBody({ action, node: file('/a', 'v', 9), prevNode: file('/a', 'u', 8) }, true), `{"action":"${action}"}\n`);
    }
  });
  test('noValueOnSuccess does not affect deletes', () => {
    const ev: EventJSON = { action: 'compareAndDelete', node: { key: '/a', modifiedIndex: 9, createdIndex: 8 }, prevNode: file('/a', 'u', 8) };
    assert.equal(renderEventBody(ev, true), eventToGoJson(ev) + '\n');
  });
  test('create and a set without prevNode are 201, everything else 200', () => {
    assert.equal(eventStatus({ action: 'create', node: file('/a', '', 1) }), 201);
    assert.equal(eventStatus({ action: 'set', node: file('/a', '', 1) }), 201);
    assert.equal(eventStatus({ action: 'set', node: file('/a', '', 2), prevNode: file('/a', '', 1) }), 200);
    assert.equal(eventStatus({ action: 'update', node: file('/a', '', 2), prevNode: file('/a', '', 1) }), 200);
    assert.equal(eventStatus({ action: 'get', node: file('/a', '', 1) }), 200);
  });
});

describe('golden error bodies', () => {
  test('a store error has code, message, cause and index in order', () => {
    assert.equal(renderErrorBody(new EtcdError(100, '/foo', 7)), '{"errorCode":100,"message":"Key not found","cause":"/foo","index":7}\n');
  });
  test('an empty cause is left out', () => {
    assert.equal(renderErrorBody(new EtcdError(107, '', 3)), '{"errorCode":107,"message":"Root is read only","index":3}\n');
  });
  test('a cause is escaped like Go', () => {
    assert.equal(
      renderErrorBody(new EtcdError(101, '[<a> != b&c]', 4)),
      '{"errorCode":101,"message":"Compare failed","cause":"[\\u003ca\\u003e != b\\u0026c]","index":4}\n',
    );
  });
  test('a parse error carries index 0', () => {
    assert.equal(renderErrorBody(new EtcdError(209, '"wait" can only be used with GET requests')), '{"errorCode":209,"message":"Invalid field","cause":"\\"wait\\" can only be used with GET requests","index":0}\n');
  });
});
