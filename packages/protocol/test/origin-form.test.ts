import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originForm } from '../src/index.js';

test('an absolute-form target becomes its path and query; other targets stay as they are', () => {
  const table: Array<[string, string]> = [
    ['http://127.0.0.1:2379/v2/keys/a?wait=true', '/v2/keys/a?wait=true'],
    ['HTTPS://Example.COM/version', '/version'],
    ['http://h:1', '/'],
    ['http://h:1?q=1', '/?q=1'],
    ['http://user@h:1/x', '/x'],
    ['/v2/keys/http://x', '/v2/keys/http://x'],
    ['*', '*'],
    ['h:1', 'h:1'],
  ];
  for (const [target, want] of table) assert.equal(originForm(target), want, target);
});
