import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Endpoints, normalizeEndpoint } from '../src/endpoints.js';

describe('endpoints', () => {
  test('normalizes base URLs', () => {
    assert.equal(normalizeEndpoint('http://127.0.0.1:2379/'), 'http://127.0.0.1:2379');
    assert.equal(normalizeEndpoint('https://h:1/base//'), 'https://h:1/base');
    assert.throws(() => normalizeEndpoint('unix:///tmp/s'), TypeError);
  });

  test('tries the pinned endpoint first, then the rest in order', () => {
    const e = new Endpoints(['http://a:1', 'http://b:1', 'http://c:1', 'http://a:1/']);
    assert.deepEqual(e.order(), ['http://a:1', 'http://b:1', 'http://c:1']);
    e.failed('http://a:1');
    assert.deepEqual(e.order(), ['http://b:1', 'http://c:1', 'http://a:1']);
    e.pin('http://c:1');
    assert.deepEqual(e.order(), ['http://c:1', 'http://a:1', 'http://b:1']);
    e.failed('http://a:1');
    assert.equal(e.order()[0], 'http://c:1', 'a failure elsewhere does not move the pin');
  });

  test('keeps the pin across a sync when the endpoint is still listed', () => {
    const e = new Endpoints(['http://a:1', 'http://b:1']);
    e.pin('http://b:1');
    e.replace(['http://c:1', 'http://b:1']);
    assert.deepEqual(e.order(), ['http://b:1', 'http://c:1']);
    e.replace([]);
    assert.deepEqual(e.all(), ['http://c:1', 'http://b:1']);
  });
});
