import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent } from '../src/service-registry.js';

const dir = '/services/api';
const ev = (action: string, key: string, value?: string, dirFlag?: true) => ({
  action, etcdIndex: 1, node: { key, ...(value !== undefined ? { value } : {}), ...(dirFlag ? { dir: dirFlag } : {}) },
});

describe('service registry events', () => {
  test('adds, changes and removes direct children', () => {
    const m = new Map<string, string>();
    assert.equal(applyEvent(m, dir, ev('set', '/services/api/a', '1')), true);
    assert.equal(applyEvent(m, dir, ev('set', '/services/api/a', '1')), false);
    assert.equal(applyEvent(m, dir, ev('compareAndSwap', '/services/api/a', '2')), true);
    assert.deepEqual([...m], [['a', '2']]);
    assert.equal(applyEvent(m, dir, ev('expire', '/services/api/a')), true);
    assert.equal(m.size, 0);
  });

  test('ignores deeper keys and sibling services', () => {
    const m = new Map<string, string>();
    assert.equal(applyEvent(m, dir, ev('set', '/services/api/a/b', '1')), false);
    assert.equal(applyEvent(m, dir, ev('set', '/services/apix/a', '1')), false);
  });

  test('empties the list when the service directory or an ancestor is deleted', () => {
    const m = new Map([['a', '1']]);
    assert.equal(applyEvent(m, dir, ev('update', dir, undefined, true)), false);
    assert.equal(applyEvent(m, dir, ev('delete', '/services', undefined, true)), true);
    assert.equal(m.size, 0);
  });
});
