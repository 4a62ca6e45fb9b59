import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonSyntaxError } from '../../src/http/go-json-syntax.js';

test('syntax errors are worded as Go\'s json.Unmarshal words them', () => {
  const cases: Array<[string, string | undefined]> = [
    ['{bad', "invalid character 'b' looking for beginning of object key string"],
    ['', 'unexpected end of JSON input'],
    ['  ', 'unexpected end of JSON input'],
    ['{"a":1', 'unexpected end of JSON input'],
    ['{"a":1} x', "invalid character 'x' after top-level value"],
    ['{}{', "invalid character '{' after top-level value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 x', "invalid character 'x' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['nul!', "invalid character '!' in literal null (expecting 'l')"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['{"peerURLs":["http://127.0.0.1:1"]}', undefined],
    ['  {}  ', undefined],
  ];
  for (const [text, want] of cases) assert.equal(goJsonSyntaxError(text), want, JSON.stringify(text));
});

test('nesting past Go\'s 10000 levels is its depth error, not a stack overflow', () => {
  assert.equal(goJsonSyntaxError('['.repeat(65_000)), "invalid character '[' exceeded max depth");
  assert.equal(goJsonSyntaxError('{"a":'.repeat(65_000)), "invalid character '{' exceeded max depth");
  assert.equal(goJsonSyntaxError(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), undefined, '10000 levels are allowed');
  assert.equal(goJsonSyntaxError(`${'['.repeat(10_000)}{}${']'.repeat(10_000)}`), "invalid character '{' exceeded max depth");
  assert.equal(goJsonSyntaxError(`${'['.repeat(5_000)}1 2`), "invalid character '2' after array element");
  assert.equal(goJsonSyntaxError('{"a":[1,{"b":[]}],"c":{}} trailing'), "invalid character 't' after top-level value");
  assert.equal(goJsonSyntaxError('{"a":[1,{"b":[]}],"c":{}'), 'unexpected end of JSON input');
  assert.equal(goJsonSyntaxError('{"a":1,}'), "invalid character '}' looking for beginning of object key string");
  assert.equal(goJsonSyntaxError('[1,]'), "invalid character ']' looking for beginning of value");
});
