import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventToGoJson } from '../../src/http/go-json.js';
import { MemoryBackend, SqliteBackend, Store } from '../../src/store/index.js';
import { T0 } from './support.js';

/** Levels of the deep key: 4,000 one-character segments, about the 8 KiB the API accepts. */
const DEPTH = 4000;
const deepDir = (depth: number, name = 'a'): string => `/${Array.from({ length: depth }, () => name).join('/')}`;

/** Walks a rendered chain down to its last node, iteratively; answers the levels seen. */
function chainDepth(node: { nodes?: unknown[] } | undefined): number {
  let depth = 0;
  let current = node;
  while (current?.nodes !== undefined) {
    depth++;
    current = current.nodes[0] as { nodes?: unknown[] };
  }
  return depth;
}

test('a 4,000-level key loads from SQLite, renders, snapshots, watches and deletes without recursion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deimos-deep-'));
  try {
    const file = join(dir, 'store.db');
    const backend = new SqliteBackend(file);
    let store = new Store({ backend });
    const key = `${deepDir(DEPTH - 1)}/leaf`;
    const watcher = store.watch('/a', { recursive: true, stream: true });
    store.set(key, { value: 'deep' }, T0);
    store.set(`${deepDir(DEPTH - 1, 'b')}/leaf`, { value: 'second chain', ttlSeconds: 5 }, T0);
    store.commit({ index: 2, term: 1 });
    assert.equal(watcher.take().length, 1);
    backend.close();

    // Reopening loads every level of both chains (it took ~35 s per chain when each row's parent
    // was found by walking down from the root).
    const reopened = new SqliteBackend(file);
    store = new Store({ backend: reopened });
    assert.equal(store.get(key, {}, T0).event.node?.value, 'deep');

    const tree = store.get('/', { recursive: true, sorted: true }, T0).event;
    assert.equal(chainDepth(tree.node), DEPTH);
    const body = store.read('/', { recursive: true, sorted: true }, T0, { maxWork: Infinity, maxChars: Infinity }).body;
    assert.equal(body, eventToGoJson(tree) + '\n');
    assert.equal(chainDepth(JSON.parse(body!).node), DEPTH);

    // Snapshot out and into another store.
    const snapshot = store.toSnapshot();
    assert.equal(snapshot.nodes.length, 2 * DEPTH);
    const copy = new Store({ backend: new MemoryBackend() });
    copy.fromSnapshot(snapshot, { index: 2, term: 1 });
    // (compared as text: deepEqual itself recurses)
    assert.equal(eventToGoJson(copy.get('/', { recursive: true, sorted: true }, T0).event), eventToGoJson(tree));

    // Expiry of the second chain and a recursive delete of the first.
    assert.equal(store.deleteExpiredKeys(T0 + 5000).length, 1);
    store.delete('/a', { recursive: true });
    store.commit({ index: 4, term: 1 });
    const left = store.get('/', { recursive: true }, T0).event.node;
    assert.equal(left?.nodes?.length, 1);
    assert.equal(chainDepth(left), DEPTH - 1, 'the expired leaf is gone, its dirs stay');
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
