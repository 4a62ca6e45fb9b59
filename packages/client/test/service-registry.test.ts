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

describe('service registry arguments', () => {
  test('a service name or instance id is one key segment, and a kept-alive ttl at least 1 s, checked before anything is sent', async () => {
    const { DeimosClient } = await import('../src/client.js');
    const { ServiceRegistry } = await import('../src/service-registry.js');
    // An endpoint nobody listens on: any request would fail with ClusterUnavailableError instead.
    const client = new DeimosClient({ endpoints: ['http://127.0.0.1:1'], sync: false });
    try {
      const reg = new ServiceRegistry(client);
      for (const [service, id] of [['s', 'a/b'], ['s', ''], ['s', '..'], ['', 'i'], ['..', 'other'], ['a/b', 'i']]) {
        await assert.rejects(reg.register(service!, id!, 'v'), (err: unknown) => err instanceof TypeError && /must be one non-empty key segment/.test(err.message), `${service} ${id}`);
      }
      await assert.rejects(reg.discover(''), TypeError);
      await assert.rejects(reg.register('s', 'i', 'v', { ttl: 0 }), RangeError);
    } finally {
      client.close();
    }
  });
});
