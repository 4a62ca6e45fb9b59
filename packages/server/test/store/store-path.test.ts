/** Clean key paths: what the store accepts (the HTTP layer cleans or redirects everything else). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCleanPath } from '../../src/store/store-path.js';

test('clean paths are accepted', () => {
  for (const p of ['/', '/a', '/a/b', '/_x', '/a.b', '/...', '/a/..b', '/.a', '/a/b./c', '/ü/日本']) assert.equal(isCleanPath(p), true, p);
});

test('relative paths, empty, dot and dot-dot segments and trailing slashes are refused', () => {
  for (const p of ['', 'a', 'a/b', '//', '/a/', '/a//b', '/.', '/..', '/a/.', '/a/..', '/./a', '/../a', '/a/./b', '/a/../b', '//a']) {
    assert.equal(isCleanPath(p), false, JSON.stringify(p));
  }
});
