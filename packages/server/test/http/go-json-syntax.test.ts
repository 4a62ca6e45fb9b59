import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonSyntaxError } from '../../src/http/go-json-syntax.js';

test('syntax errors are worded as Go encoding/json words them', () => {
  const cases: Array<[string, string | undefined]> = [
    ['{bad', "invalid character 'b' looking for beginning of object key string"],
    ['', 'EOF'],
    ['{"a":1', 'unexpected EOF'],
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
