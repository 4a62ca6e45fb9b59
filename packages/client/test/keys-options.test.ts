import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createInOrderRequest, deleteRequest, getRequest, keyPath, setRequest, watchRequest } from '../src/keys-options.js';

describe('keys request building', () => {
  test('encodes each key segment and keeps the slashes', () => {
    assert.equal(keyPath('/v2/keys', '/a b/c?d'), '/v2/keys/a%20b/c%3Fd');
    assert.equal(keyPath('/keys', 'foo'), '/keys/foo');
    assert.equal(keyPath('/v2/keys', '/'), '/v2/keys/');
    assert.equal(keyPath('/v2/keys', '//a///b/'), '/v2/keys/a/b');
  });

  test('sends only the get flags that are set', () => {
    assert.deepEqual(getRequest('/v2/keys', '/d', { recursive: true, sorted: false }).query, { recursive: 'true' });
    assert.equal(getRequest('/v2/keys', '/d').safety, 'read');
  });

  test('puts conditions in the query and value and ttl in the form body', () => {
    const r = setRequest('/v2/keys', '/k', 'v', { ttl: 5, prevValue: 'old', prevIndex: 7 });
    assert.deepEqual(r.query, { prevValue: 'old', prevIndex: '7' });
    assert.deepEqual(r.form, { value: 'v', ttl: '5' });
    assert.equal(r.method, 'PUT');
    assert.equal(r.safety, 'conditional');
  });

  test('classifies plain sets, POSTs and plain deletes as unsafe to retry', () => {
    assert.equal(setRequest('/v2/keys', '/k', 'v').safety, 'unsafe');
    assert.equal(setRequest('/v2/keys', '/k', 'v', { prevExist: true }).safety, 'unsafe');
    assert.equal(createInOrderRequest('/v2/keys', '/q', 'v').safety, 'unsafe');
    assert.equal(deleteRequest('/v2/keys', '/k').safety, 'unsafe');
    assert.equal(deleteRequest('/v2/keys', '/k', { recursive: true }).safety, 'unsafe');
  });

  test('classifies creates, compares and refreshes as conditional', () => {
    assert.equal(setRequest('/v2/keys', '/k', 'v', { prevExist: false }).safety, 'conditional');
    assert.equal(setRequest('/v2/keys', '/k', undefined, { refresh: true, prevExist: true, ttl: 3 }).safety, 'conditional');
    assert.equal(deleteRequest('/v2/keys', '/k', { prevIndex: 4 }).safety, 'conditional');
  });

  test('builds directories and refreshes without a value', () => {
    const mk = setRequest('/v2/keys', '/d', undefined, { dir: true, prevExist: false, ttl: 9 });
    assert.deepEqual(mk.query, { dir: 'true', prevExist: 'false' });
    assert.deepEqual(mk.form, { ttl: '9' });
    const rf = setRequest('/v2/keys', '/k', 'ignored', { refresh: true, prevExist: true, ttl: 3 });
    assert.deepEqual(rf.query, { prevExist: 'true', refresh: 'true' });
    assert.deepEqual(rf.form, { ttl: '3' });
  });

  test('treats prevIndex 0 as no condition', () => {
    assert.deepEqual(deleteRequest('/v2/keys', '/k', { prevIndex: 0 }).query, {});
  });

  test('rejects a fractional or negative ttl', () => {
    assert.throws(() => setRequest('/v2/keys', '/k', 'v', { ttl: 1.5 }), RangeError);
    assert.throws(() => setRequest('/v2/keys', '/k', 'v', { ttl: -1 }), RangeError);
  });

  test('builds long-poll watches with an optional waitIndex', () => {
    assert.deepEqual(watchRequest('/v2/keys', '/w', {}).query, { wait: 'true' });
    assert.deepEqual(watchRequest('/v2/keys', '/w', { recursive: true, waitIndex: 12 }).query, { wait: 'true', recursive: 'true', waitIndex: '12' });
  });
});
