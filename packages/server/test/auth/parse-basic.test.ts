import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBasic } from '../../src/auth/auth-guard.js';
import { hashPassword, verifyPassword } from '../../src/auth/password-hash.js';

const basic = (bytes: string | Buffer) => `Basic ${Buffer.from(bytes).toString('base64')}`;

test('Basic credentials are read as strictly as etcd reads them', () => {
  assert.deepEqual(parseBasic(basic('root:rootpw')), { user: 'root', password: 'rootpw' });
  assert.deepEqual(parseBasic(basic('u:p:q')), { user: 'u', password: 'p:q' }, 'a colon in the password');
  assert.deepEqual(parseBasic(`basic ${Buffer.from('u:p').toString('base64')}`), { user: 'u', password: 'p' }, 'the scheme in any case');
  for (const header of [
    'Basic cm9vdDpyb290cHc', // the pad missing
    'Basic cm9vdDpyb290cHc==', // a pad too many
    'Basic cm9vdDpyb290cHc=AA', // bytes after the pad
    basic(Buffer.from([0x72, 0x3a, 0xff])), // not UTF-8 (read as U+FFFD before)
    basic('root:rootpw\0'), // a trailing NUL: the hash of "rootpw" matches it
    basic('nocolon'),
  ]) {
    assert.equal(parseBasic(header), undefined, header);
  }
});

test('why a trailing NUL is refused: the password hash cannot tell it apart', async () => {
  const stored = await hashPassword('rootpw');
  assert.equal(await verifyPassword('rootpw\0', stored), true);
  assert.equal(await verifyPassword('rootpw\0x', stored), false);
});
