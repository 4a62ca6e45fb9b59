/**
 * A client worker's watches across a replaced state (a snapshot install on its member): stream
 * watchers end as `cleared`, long polls are answered from the primary's new history or go on
 * waiting, as in the store (`Store.reload`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEvent, type StoreEvent, type Watcher } from '../../src/store/index.js';
import { WatchWindow, type HistoryAnswer } from '../../src/worker/watch-window.js';

const setEvent = (key: string, index: number): StoreEvent => makeEvent('set', { key, value: `v${index}`, dir: false, modifiedIndex: index, createdIndex: index }, undefined, false, 1_000);

test('after a reset, a waiting long poll is asked again of the primary, a later one waits, a stream ends', () => {
  const asked: Array<{ watcher: Watcher; done: (a: HistoryAnswer) => void }> = [];
  const window = new WatchWindow({
    startIndex: 10,
    historyLimit: 1000,
    fetch: (watcher, done) => asked.push({ watcher, done }),
    start: (done) => done(10),
  });
  const answered = window.watch('/a', { sinceIndex: 11 }) as Watcher;
  const later = window.watch('/b', { sinceIndex: 60 }) as Watcher;
  const stream = window.watch('/a', { sinceIndex: 11, stream: true }) as Watcher;
  assert.equal(window.watcherCount, 3);

  window.reset(50);
  assert.equal(stream.closeReason, 'cleared');
  assert.equal(answered.closed, false);
  assert.equal(asked.length, 1, 'the poll within the new state is asked of the primary');
  assert.equal(asked[0]!.watcher.sinceIndex, answered.sinceIndex, 'from the index the poll waits for');
  assert.ok(asked[0]!.watcher.key === answered.key || asked[0]!.watcher.key === '/', 'over its key');
  asked[0]!.done({ events: [setEvent('/a', 42)], truncated: false });
  assert.equal(answered.closeReason, 'delivered');
  assert.equal(answered.take()[0]?.index, 42);

  assert.equal(later.closed, false, 'a poll past the new state waits');
  window.apply(setEvent('/b', 60));
  assert.equal(later.closeReason, 'delivered');
  assert.equal(window.watcherCount, 0);
});

test('after a reset, a long poll whose events the primary no longer holds ends as cleared', () => {
  const asked: Array<(a: HistoryAnswer) => void> = [];
  const window = new WatchWindow({ startIndex: 10, historyLimit: 1000, fetch: (_w, done) => asked.push(done), start: (done) => done(10) });
  const poll = window.watch('/a', { sinceIndex: 11 }) as Watcher;
  window.reset(5000);
  asked[0]!({ error: Object.assign(new Error('cleared'), { errorCode: 401 }) as never });
  assert.equal(poll.closeReason, 'cleared');
});

test('after a reset, a recursive long poll is not given a hidden key below it from the history, as live', () => {
  const asked: Array<(a: HistoryAnswer) => void> = [];
  const window = new WatchWindow({ startIndex: 10, historyLimit: 1000, fetch: (_w, done) => asked.push(done), start: (done) => done(10) });
  const poll = window.watch('/d', { sinceIndex: 11, recursive: true }) as Watcher;
  window.reset(50);
  asked[0]!({ events: [setEvent('/d/_hidden', 20), setEvent('/d/shown', 30)], truncated: false });
  assert.equal(poll.closeReason, 'delivered');
  assert.equal(poll.take()[0]?.node.key, '/d/shown');
});

test('after a reset, many waiting long polls are found again with one history scan, each by the live rules', () => {
  const asked: Array<{ watcher: Watcher; done: (a: HistoryAnswer) => void }> = [];
  const window = new WatchWindow({ startIndex: 10, historyLimit: 1000, fetch: (watcher, done) => asked.push({ watcher, done }), start: (done) => done(10) });
  const polls = Array.from({ length: 500 }, (_, i) => window.watch(`/p${i % 50}`, { sinceIndex: 11 + (i % 7) }) as Watcher);
  const hidden = window.watch('/d', { sinceIndex: 11, recursive: true }) as Watcher;
  window.reset(50);
  assert.equal(asked.length, 1, 'one scan for every poll');
  assert.equal(asked[0]!.watcher.sinceIndex, 11, 'from the oldest index any poll waits for');
  asked[0]!.done({ events: [setEvent('/d/_h', 12), setEvent('/p3', 20), setEvent('/p3', 30)], truncated: false });
  for (const [i, poll] of polls.entries()) {
    if (i % 50 === 3) {
      assert.equal(poll.closeReason, 'delivered');
      assert.equal(poll.take()[0]?.index, 20, 'the first event at or after its index');
    } else assert.equal(poll.closed, false);
  }
  assert.equal(hidden.closed, false, 'a hidden key below a recursive poll is not given to it, as live');
  assert.equal(window.watcherCount, 500 - 10 + 1);
});

test('after a reset, a shared scan cut short is asked again per poll, over its own key', () => {
  const asked: Array<{ watcher: Watcher; done: (a: HistoryAnswer) => void }> = [];
  const window = new WatchWindow({ startIndex: 10, historyLimit: 1000, fetch: (watcher, done) => asked.push({ watcher, done }), start: (done) => done(10) });
  const a = window.watch('/a', { sinceIndex: 11 }) as Watcher;
  const b = window.watch('/b', { sinceIndex: 15 }) as Watcher;
  window.reset(50);
  asked[0]!.done({ events: [], truncated: true });
  assert.deepEqual(asked.slice(1).map((x) => [x.watcher.key, x.watcher.sinceIndex]), [['/a', 11], ['/b', 15]]);
  asked[1]!.done({ events: [setEvent('/a', 40)], truncated: false });
  asked[2]!.done({ error: Object.assign(new Error('cleared'), { errorCode: 401 }) as never });
  assert.equal(a.closeReason, 'delivered');
  assert.equal(b.closeReason, 'cleared');
});
