/** Clean key paths: what the store accepts (the HTTP layer cleans or redirects everything else). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCleanPath, isReservedPath } from '../../src/store/store-path.js';

test('clean paths are accepted', () => {
  for (const p of ['/', '/a', '/a/b', '/_x', '/a.b', '/...', '/a/..b', '/.a', '/a/b./c', '/ü/日本']) assert.equal(isCleanPath(p), true, p);
});

test('relative paths, empty, dot and dot-dot segments and trailing slashes are refused', () => {
  for (const p of ['', 'a', 'a/b', '//', '/a/', '/a//b', '/.', '/..', '/a/.', '/a/..', '/./a', '/../a', '/a/./b', '/a/../b', '//a']) {
    assert.equal(isCleanPath(p), false, JSON.stringify(p));
  }
});

test('the reserved prefix is /_deimos as a whole segment, and everything below it', () => {
  for (const p of ['/_deimos', '/_deimos/members', '/_deimos/_auth', '/_deimos/_auth/x']) assert.equal(isReservedPath(p), true, p);
  for (const p of ['/', '/_deimosx', '/_deimo', '/a/_deimos', '/_Deimos', '/deimos', '/_']) assert.equal(isReservedPath(p), false, p);
});
