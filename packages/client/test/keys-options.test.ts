import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createInOrderRequest, deleteRequest, getRequest, keepAliveTtl, keyPath, setRequest, watchRequest } from '../src/keys-options.js';

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

describe('arguments checked before anything is sent', () => {
  test('a "." or ".." key segment is refused (URL parsing resolved it: /services/../other wrote /other)', () => {
    for (const key of ['/services/../other', '/x/zz/..', '.', '/a/./b', '../../version']) {
      assert.throws(() => keyPath('/v2/keys', key), (err: unknown) => err instanceof TypeError && /has a "\." or "\.\." segment/.test(err.message), key);
    }
    assert.equal(keyPath('/v2/keys', '/a.b/..c/.d'), '/v2/keys/a.b/..c/.d', 'dots inside a segment are a name');
    assert.throws(() => keyPath('/v2/keys', 5 as unknown as string), /a key must be a string, got number/);
  });

  test('a value is a string (numbers and booleans written out); null or an object is refused, not stored as "null"', () => {
    assert.equal(setRequest('/v2/keys', '/k', 5 as unknown as string).form?.['value'], '5');
    assert.equal(createInOrderRequest('/v2/keys', '/q', true as unknown as string).form?.['value'], 'true');
    for (const bad of [null, { a: 1 }, Number.NaN]) {
      assert.throws(() => setRequest('/v2/keys', '/k', bad as unknown as string), TypeError, String(bad));
    }
  });

  test('a ttl is a whole number of seconds within the safe integers; a kept-alive one is at least 1 s', () => {
    assert.throws(() => setRequest('/v2/keys', '/k', 'v', { ttl: 1e21 }), /ttl must be a whole number of seconds >= 0, got 1e\+21/);
    assert.throws(() => setRequest('/v2/keys', '/k', 'v', { ttl: '5' as unknown as number }), /got "5"/);
    for (const ttl of [0, -1, 1.5, 2 ** 53]) assert.throws(() => keepAliveTtl(ttl), RangeError, String(ttl));
    assert.equal(keepAliveTtl(1), 1);
  });
});
