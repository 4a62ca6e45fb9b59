import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, ErrorCode, type Entry, type ReplicatedRequest } from '@deimos/protocol';
import { Applier } from '../../src/member/applier.js';
import type { ApplyResult } from '../../src/member/apply-result.js';
import { Membership } from '../../src/member/membership.js';
import { requestToBytes } from '../../src/member/request-codec.js';
import { WaitRegistry } from '../../src/raft-node/wait-registry.js';
import { MemoryBackend, Store } from '../../src/store/index.js';
import { createLogger } from '../../src/util/logger.js';

const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);

function setup() {
  const store = new Store({ backend: new MemoryBackend() });
  const waiters = new WaitRegistry<ApplyResult>(100);
  const logged: string[] = [];
  const applier = new Applier({
    store,
    node: () => { throw new Error('no conf changes in these tests'); },
    waiters,
    membership: new Membership(store, [], () => T0),
    logger: createLogger('error', 'test', (line) => logged.push(line)),
    restore: () => { throw new Error('no snapshots in these tests'); },
    initialConfState: { voters: ['1'], learners: [] },
  } as never);
  let index = 0;
  const entry = (req: unknown): Entry => ({ type: EntryType.Normal, term: 1, index: ++index, data: requestToBytes(req as ReplicatedRequest) });
  /** Applies one request as a committed entry and returns what its waiter was told. */
  const apply = async (req: Record<string, unknown>): Promise<ApplyResult> => {
    const id = `r${index + 1}`;
    const done = waiters.register(id, 60_000);
    applier.applyEntries([entry({ ...req, id })]);
    return done;
  };
  const applyRaw = (data: Uint8Array): void => applier.applyEntries([{ type: EntryType.Normal, term: 1, index: ++index, data }]);
  return { store, apply, applyRaw, logged };
}

const bad: Array<[string, Record<string, unknown>]> = [
  ['a TTL that is not a safe integer', { op: 'set', path: '/x', value: 'v', dir: false, refresh: false, timeMs: T0, ttlSeconds: 9007199254740992 }],
  ['a fractional TTL', { op: 'create', path: '/x', value: 'v', dir: false, unique: false, refresh: false, timeMs: T0, ttlSeconds: 1.5 }],
  ['a negative TTL', { op: 'update', path: '/x', value: 'v', refresh: false, timeMs: T0, ttlSeconds: -1 }],
  ['a time that is not a number', { op: 'compareAndSwap', path: '/x', value: 'v', refresh: false, timeMs: 'soon', prevValue: 'v' }],
  ['a path that is not clean', { op: 'set', path: '/x/../y', value: 'v', dir: false, refresh: false, timeMs: T0 }],
  ['a value that is not a string', { op: 'set', path: '/x', value: 7, dir: false, refresh: false, timeMs: T0 }],
  ['an unknown operation', { op: 'rename', path: '/x' }],
  ['a sync without a time', { op: 'sync' }],
];

for (const [what, req] of bad) {
  test(`a committed request with ${what} fails with a Raft Internal Error and changes nothing`, async () => {
    const { store, apply, logged } = setup();
    const first = await apply({ op: 'set', path: '/x', value: 'v', dir: false, refresh: false, timeMs: T0 });
    assert.equal(first.event?.index, 1);
    const result = await apply(req);
    assert.equal(result.error?.errorCode, ErrorCode.RaftInternal, JSON.stringify(result));
    assert.equal(result.event, undefined);
    assert.equal(store.index, 1, 'the store index did not move');
    assert.equal(store.get('/x', {}, T0).event.node?.value, 'v');
    assert.ok(logged.some((l) => l.includes('cannot be applied')), 'the refusal is logged');
    // The loop goes on: the next entry applies as usual.
    const next = await apply({ op: 'set', path: '/y', value: 'w', dir: false, refresh: false, timeMs: T0, ttlSeconds: 7_000_000_000 });
    assert.equal(next.event?.index, 2);
    assert.equal(store.get('/y', {}, T0).event.node?.ttl, 7_000_000_000);
  });
}

test('an entry that is not a request is skipped without stopping the loop', async () => {
  const { store, apply, applyRaw } = setup();
  applyRaw(Buffer.from('{not json'));
  const r = await apply({ op: 'set', path: '/a', value: '1', dir: false, refresh: false, timeMs: T0 });
  assert.equal(r.event?.index, 1);
  assert.equal(store.get('/a', {}, T0).event.node?.value, '1');
});
