import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventToGoJson } from '../../src/http/go-json.js';
import type { BigListing, Store, StoreRead } from '../../src/store/index.js';
import { T0, newStore } from './support.js';

const WHOLE = { maxWork: Infinity, maxChars: Infinity };
/** One node per step: every step boundary of the renderer is exercised. */
const TINY = { maxWork: 1, maxChars: 1 };

/** A tree with every kind of node: files, empty and nested dirs, hidden keys, TTLs, odd characters. */
function fixture(): Store {
  const { store } = newStore();
  store.set('/d/b', { value: 'B <&> "q" \u2028' }, T0);
  store.set('/d/a/x', { value: 'X' }, T0);
  store.set('/d/_hidden', { value: 'H' }, T0);
  store.set('/d/a/_h', { value: 'h' }, T0);
  store.set('/d/e', { dir: true }, T0);
  store.set('/d/t', { value: 'ttl', ttlSeconds: 30 }, T0);
  store.set('/d/td', { dir: true, ttlSeconds: 5 }, T0);
  store.set('/d/td/in', { value: '' }, T0);
  store.set('/top', { value: 'T' }, T0);
  store.set('/_top', { value: 'hidden' }, T0);
  store.set('/z/\u00e9/\ud83d\ude00', { value: 'emoji' }, T0);
  store.set('/z/\uffff', { value: 'bmp' }, T0);
  return store;
}

/** Renders a big listing to its end, calling `between` after each step. */
function drain(listing: BigListing, between: () => void = () => undefined): string {
  let out = '';
  while (!listing.done) {
    out += listing.render(TINY);
    between();
  }
  return out;
}

function bodyOf(read: StoreRead): string {
  return read.body ?? drain(read.listing!);
}

const cases: [string, { recursive?: boolean; sorted?: boolean }][] = [];
for (const path of ['/', '/d', '/d/b', '/d/e', '/d/td', '/z']) {
  for (const recursive of [false, true]) for (const sorted of [false, true]) cases.push([path, { recursive, sorted }]);
}

test('read renders the same bytes as get serialized with Go escaping, whole and step by step', () => {
  const store = fixture();
  for (const [path, options] of cases) {
    const expected = eventToGoJson(store.get(path, options, T0 + 1500).event) + '\n';
    const whole = store.read(path, options, T0 + 1500, WHOLE);
    assert.equal(whole.body, expected, `${path} ${JSON.stringify(options)} whole`);
    assert.equal(whole.index, store.index);
    const stepped = store.read(path, options, T0 + 1500, TINY);
    assert.equal(bodyOf(stepped), expected, `${path} ${JSON.stringify(options)} stepped`);
    assert.equal(store.openViews, 0, 'a listing rendered to its end closes its view');
  }
});

test('a big read shows the tree as it was when it began while writes go on between its steps', () => {
  const store = fixture();
  const options = { recursive: true, sorted: false };
  const expected = eventToGoJson(store.get('/', options, T0).event) + '\n';
  const read = store.read('/', options, T0, TINY);
  assert.ok(read.listing !== undefined);
  assert.equal(read.index, 12);
  let i = 0;
  // Every kind of mutation, several times over: rewrites, replacements, new and removed nodes,
  // recursive deletes, TTL changes and expiry.
  const writes: (() => unknown)[] = [
    () => store.set('/d/b', { value: 'changed' }, T0),
    () => store.update('/d/a/x', { value: 'X2', ttlSeconds: 1 }, T0),
    () => store.delete('/d/a', { recursive: true }),
    () => store.set('/d/new/deep/er', { value: 'n' }, T0),
    () => store.set('/top', { dir: true }, T0),
    () => store.update('/d/td', { ttlSeconds: 100 }, T0),
    () => store.deleteExpiredKeys(T0 + 10_000),
    () => store.delete('/z', { recursive: true }),
    () => store.set('/d/e/f', { value: 'f' }, T0),
    () => store.delete('/d', { recursive: true }),
  ];
  const body = drain(read.listing, () => {
    if (i < writes.length) writes[i++]!();
  });
  assert.equal(i, writes.length, 'the writes ran while the listing was being rendered');
  assert.equal(body, expected);
  assert.equal(store.openViews, 0);
});

test('a big read survives a reload of the whole state between its steps', () => {
  const { store, backend } = newStore();
  for (let i = 0; i < 20; i++) store.set(`/k/${i}`, { value: `v${i}` }, T0);
  store.commit({ index: 20, term: 1 });
  const options = { recursive: true, sorted: true };
  const expected = eventToGoJson(store.get('/', options, T0).event) + '\n';
  const read = store.read('/', options, T0, TINY);
  let reloaded = false;
  const body = drain(read.listing!, () => {
    if (reloaded) return;
    reloaded = true;
    store.delete('/k', { recursive: true });
    store.commit({ index: 21, term: 1 });
    store.reload();
  });
  assert.equal(body, expected);
  assert.equal(backend.commitCount, 2);
});

test('closing a big read before its end stops the tree feeding its view', () => {
  const store = fixture();
  const read = store.read('/', { recursive: true }, T0, TINY);
  assert.equal(store.openViews, 1);
  read.listing!.render(TINY);
  read.listing!.close();
  assert.equal(store.openViews, 0);
  store.set('/d/b', { value: 'after close' }, T0);
  assert.equal(read.listing!.keptSize, 0);
});

test('a small read is whole and a big one renders in bounded steps', () => {
  const { store } = newStore();
  for (let i = 0; i < 1000; i++) store.set(`/many/${i}`, { value: 'x'.repeat(100) }, T0);
  const small = store.read('/many/5', {}, T0, { maxWork: 100, maxChars: 4096 });
  assert.ok(small.body !== undefined);
  const big = store.read('/many', {}, T0, { maxWork: 100, maxChars: 4096 });
  assert.ok(big.listing !== undefined);
  let steps = 0;
  let body = '';
  while (!big.listing.done) {
    const part = big.listing.render({ maxWork: 100, maxChars: 4096 });
    assert.ok(part.length <= 4096 + 200, `a step stops soon after its bound (${part.length})`);
    body += part;
    steps++;
  }
  assert.ok(steps >= 10);
  assert.equal(JSON.parse(body).node.nodes.length, 1000);
});

test('a sorted listing too long to sort at once is sorted in steps, in the same order as get', () => {
  const { store } = newStore();
  // Keys whose insertion order is far from sorted, with characters where UTF-16 order differs.
  for (let i = 0; i < 3000; i++) store.set(`/s/${(i * 7919) % 3001}${i % 7 === 0 ? '\ud83d\ude00' : i % 5 === 0 ? '\uffff' : ''}`, { value: `${i}` }, T0);
  const expected = eventToGoJson(store.get('/s', { sorted: true }, T0).event) + '\n';
  const stepped = store.read('/s', { sorted: true }, T0, { maxWork: 8, maxChars: 1 << 20 });
  assert.ok(stepped.listing !== undefined);
  let body = '';
  let steps = 0;
  while (!stepped.listing.done) {
    body += stepped.listing.render({ maxWork: 8, maxChars: 1 << 20 });
    steps++;
  }
  assert.equal(body, expected);
  assert.ok(steps > 100, `the sort took several steps (${steps})`);
});
