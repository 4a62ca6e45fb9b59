/** etcdctl v2's `user get` and `role get` output, byte for byte (as etcdctl 3.4 prints them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRole, formatUser } from '../src/auth-format.js';

test('user get: one extra space per role before the names, as etcdctl prints them', () => {
  assert.equal(formatUser({ user: 'carol', roles: [] }), 'User: carol\nRoles: \n');
  assert.equal(formatUser({ user: 'root', roles: ['root'] }), 'User: root\nRoles:  root\n');
  assert.equal(formatUser({ user: 'bob', roles: ['app', 'app2'] }), 'User: bob\nRoles:   app app2\n');
});

test('role get: read and write paths after a tab, headings even when empty', () => {
  assert.equal(formatRole({ role: 'app', permissions: { kv: { read: [], write: [] } } }), 'Role: app\nKV Read:\nKV Write:\n');
  assert.equal(
    formatRole({ role: 'app', permissions: { kv: { read: ['/app/*', '/r/*'], write: ['/app/*'] } } }),
    'Role: app\nKV Read:\n\t/app/*\n\t/r/*\nKV Write:\n\t/app/*\n',
  );
});
