import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goStructFields } from '../../src/auth/go-struct-fields.js';

const TAGS = ['user', 'password', 'roles', 'key'] as const;

test('keys name fields exactly or by Go\'s EqualFold, the last one winning', () => {
  assert.deepEqual(goStructFields({ User: 'a', PASSWORD: 'p', other: 1 }, TAGS), { user: 'a', password: 'p' });
  assert.deepEqual(goStructFields({ user: 'a', User: 'b' }, TAGS), { user: 'b' });
  // ſ (U+017F) folds to s and the Kelvin sign (U+212A) to k, as in Go; ß, İ and ı reach no ASCII letter.
  assert.deepEqual(goStructFields({ 'uſer': 'a', '\u212Aey': 'k' }, TAGS), { user: 'a', key: 'k' });
  assert.deepEqual(goStructFields({ 'paßword': 'x', 'İ': 1, 'roleı': 2 }, TAGS), {});
});

test('null leaves a string field as it was and clears a slice field', () => {
  assert.deepEqual(goStructFields({ password: 'p', roles: ['r'] }, TAGS, ['password']), { password: 'p', roles: ['r'] });
  assert.deepEqual(goStructFields({ password: 'p', Password: null }, TAGS, ['password']), { password: 'p' });
  assert.deepEqual(goStructFields({ password: null }, TAGS, ['password']), { password: null });
  assert.deepEqual(goStructFields({ roles: ['r'], Roles: null }, TAGS, ['password']), { roles: null });
});
