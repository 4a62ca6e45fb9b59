import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { MemoryBackend, Store } from '../../src/store/index.js';
import { pumpWatch, type WatchSink } from '../../src/routes/watch-route.js';

const T0 = 1_700_000_000_000;

/** A connection whose buffer takes `capacity` characters until it is drained by the test. */
function slowSink(capacity: number): WatchSink & { lines: string[]; drain: () => void; ended: boolean; buffered: number } {
  let onDrain: (() => void) | undefined;
  const sink = {
    lines: [] as string[],
    buffered: 0,
    ended: false,
    finished: false,
    write(line: string): boolean {
      sink.lines.push(line);
      sink.buffered += line.length;
      return sink.buffered < capacity;
    },
    end(): void {
      sink.ended = true;
      sink.finished = true;
    },
    onceDrain(fn: () => void): void {
      onDrain = fn;
    },
    drain(): void {
      sink.buffered = 0;
      const fn = onDrain;
      onDrain = undefined;
      fn?.();
    },
  };
  return sink;
}

const valueOf = (line: string): string => JSON.parse(line).node.value as string;

test('a stream backlog is written as the client reads it, in order, not all at once', async () => {
  const store = new Store({ backend: new MemoryBackend(), streamBufferSize: 1000 });
  const watcher = store.watch('/w', { recursive: true, stream: true });
  const sink = slowSink(10_000);
  pumpWatch(watcher, true, sink);
  const big = 'x'.repeat(4_000);
  for (let i = 0; i < 50; i++) store.set(`/w/k${i}`, { value: `${i}:${big}` }, T0);
  await turn();
  await turn();
  assert.equal(sink.lines.length, 3, 'writes stop once the buffer is full: 3 lines of ~4 KB');
  let rounds = 0;
  while (sink.lines.length < 50 && rounds++ < 100) {
    sink.drain();
    await turn();
  }
  assert.deepEqual(sink.lines.map((l) => Number(valueOf(l).split(':')[0])), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(sink.ended, false, 'a stream stays open');
});

test('a client that takes every write at once still gets a big backlog over several turns', async () => {
  const store = new Store({ backend: new MemoryBackend(), streamBufferSize: 1000 });
  const watcher = store.watch('/w', { recursive: true, stream: true });
  const sink = slowSink(Number.POSITIVE_INFINITY);
  const big = 'x'.repeat(20_000);
  for (let i = 0; i < 50; i++) store.set(`/w/k${i}`, { value: `${i}:${big}` }, T0);
  pumpWatch(watcher, true, sink);
  store.set('/w/last', { value: 'last' }, T0);
  await turn();
  await turn();
  assert.ok(sink.lines.length > 0 && sink.lines.length < 50, `one turn wrote ${sink.lines.length} of 51 lines`);
  for (let rounds = 0; sink.lines.length < 51 && rounds < 100; rounds++) await turn();
  assert.equal(sink.lines.length, 51);
});

test('a client that stays slow lets the watcher overflow: what was taken is written, then the stream ends', async () => {
  const store = new Store({ backend: new MemoryBackend(), streamBufferSize: 10 });
  const watcher = store.watch('/w', { recursive: true, stream: true });
  const sink = slowSink(100);
  pumpWatch(watcher, true, sink);
  store.set('/w/first', { value: 'a'.repeat(200) }, T0);
  await turn();
  assert.equal(sink.lines.length, 1);
  // The connection stays full: events wait in the watcher until it overflows.
  for (let i = 0; i < 20; i++) store.set(`/w/k${i}`, { value: `${i}` }, T0);
  await turn();
  assert.equal(sink.lines.length, 1, 'nothing written while the client does not read');
  assert.equal(watcher.overflowed, true);
  for (let rounds = 0; !sink.ended && rounds < 100; rounds++) {
    sink.drain();
    await turn();
  }
  assert.equal(sink.ended, true, 'the overflowed stream ends once its events are out');
  assert.ok(sink.lines.length >= 2 && sink.lines.length <= 12, `${sink.lines.length} lines`);
});

test('a one-shot watch writes its event and ends', async () => {
  const store = new Store({ backend: new MemoryBackend() });
  const watcher = store.watch('/w', {});
  const sink = slowSink(1_000_000);
  pumpWatch(watcher, false, sink);
  store.set('/w', { value: 'v' }, T0);
  await turn();
  assert.deepEqual(sink.lines.map(valueOf), ['v']);
  assert.equal(sink.ended, true);
});
