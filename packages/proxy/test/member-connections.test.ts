/**
 * MemberConnections against a real loopback TCP server that answers pipelined requests in order (as
 * a member does; fake-member.ts): a read queued behind another client's answer is never held up by
 * it, and never lands on a connection that is closing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../src/endpoint-pool.js';
import { MemberConnections, type Exchange, type ExchangeHandle } from '../src/member-connections.js';
import { BIG, busyWait, fakeMember } from './fake-member.js';

/** One exchange's answer as collected; while `stalled`, its client reads nothing (it pauses). */
interface Collected {
  status: number;
  bytes: number;
  completed: boolean;
  failed: string | undefined;
  stalled: boolean;
  done: Promise<void>;
  handle: ExchangeHandle;
}

/** Sends a pipelined read of `path` and collects its answer. */
function read(conns: MemberConnections, ep: Endpoint, path: string, stalled = false): Collected {
  let finish!: () => void;
  const r: Collected = {
    status: 0, bytes: 0, completed: false, failed: undefined, stalled, handle: undefined as unknown as ExchangeHandle,
    done: new Promise<void>((resolve) => (finish = resolve)),
  };
  const exchange: Exchange = {
    head: (h) => { r.status = h.status; },
    body: (chunk) => {
      r.bytes += chunk.length;
      if (r.stalled) r.handle.pause();
    },
    complete: () => { r.completed = true; finish(); },
    failed: (e) => { r.failed = e.message; finish(); },
  };
  r.handle = conns.send(ep, `GET ${path} HTTP/1.1\r\nHost: m\r\n\r\n`, undefined, false, exchange, true);
  return r;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms))]);
}

test('reads queued behind answers whose clients stop reading are sent again elsewhere and answered', async () => {
  const { stop, ep, requests } = await fakeMember();
  const conns = new MemberConnections({ dialTimeoutMs: 2000 });
  try {
    // Eight large reads whose clients read nothing after the first piece: they pause their connections.
    const bigs = Array.from({ length: 8 }, () => read(conns, ep, '/big', true));
    // Queued behind them in the same turn (eight pipelining connections exist).
    const smalls = Array.from({ length: 8 }, () => read(conns, ep, '/small'));
    await within(Promise.all(smalls.map((s) => s.done)), 5000, 'answers to the small reads');
    for (const s of smalls) assert.deepEqual([s.status, s.completed, s.failed, s.bytes], [200, true, undefined, '/small'.length]);
    assert.equal(requests(), 8 + 8 + 8, 'the small reads were sent twice: behind the large answers, then elsewhere');
    assert.ok(bigs.every((b) => !b.completed && b.failed === undefined), 'the large answers are held back, not broken');
    // New reads do not join the stalled connections either.
    const later = read(conns, ep, '/small');
    await within(later.done, 5000, 'a later small read');
    assert.equal(later.status, 200);
    // Once their clients read, the large answers arrive whole (and the dropped ones behind them are skipped).
    for (const b of bigs) {
      b.stalled = false;
      b.handle.resume();
    }
    await within(Promise.all(bigs.map((b) => b.done)), 10_000, 'the large answers');
    for (const b of bigs) assert.deepEqual([b.status, b.completed, b.bytes], [200, true, BIG]);
    const again = read(conns, ep, '/small');
    await within(again.done, 5000, 'a read on the reused connections');
    assert.equal(again.bytes, '/small'.length);
  } finally {
    conns.close();
    stop();
  }
});

test('a read overdue behind an answer under way is moved; behind an answer not yet started it is not', async () => {
  const { stop, ep, held } = await fakeMember();
  const conns = new MemberConnections({ dialTimeoutMs: 2000 });
  try {
    const holds = Array.from({ length: 8 }, () => read(conns, ep, '/hold'));
    const behindHold = read(conns, ep, '/small');
    await waitUntil(() => held.length === 8, 'the held requests to arrive');
    // The member has not started the answer ahead of it: that is the member being slow.
    assert.equal(behindHold.handle.unblock(), false);
    for (const release of held.splice(0)) release();
    await within(Promise.all([...holds.map((h) => h.done), behindHold.done]), 5000, 'the held answers');
    assert.equal(behindHold.status, 200);

    // Eight answers under way (head and part of the body sent), each with a read queued behind it.
    const trickles = Array.from({ length: 8 }, () => read(conns, ep, '/trickle'));
    const behind = Array.from({ length: 8 }, () => read(conns, ep, '/small'));
    await waitUntil(() => trickles.every((t) => t.bytes > 0), 'the trickling answers to start');
    assert.ok(behind.every((b) => b.status === 0), 'the reads behind wait');
    assert.deepEqual(behind.map((b) => b.handle.unblock()), behind.map(() => true));
    await within(Promise.all(behind.map((b) => b.done)), 5000, 'the moved reads');
    assert.ok(behind.every((b) => b.status === 200 && b.bytes === '/small'.length));
    for (const release of held.splice(0)) release();
    await within(Promise.all(trickles.map((t) => t.done)), 5000, 'the trickling answers');
    assert.ok(trickles.every((t) => t.completed && t.bytes === '/trickle'.length));
  } finally {
    conns.close();
    stop();
  }
});

test('a dial timer that fires late, the proxy starved of CPU, does not fail a connection made meanwhile', async () => {
  const { stop, ep } = await fakeMember();
  const conns = new MemberConnections({ dialTimeoutMs: 20 });
  try {
    // Dialled from a check-phase callback, the process then blocked past the dial timeout: the next
    // turn of the event loop runs its timers before it polls for the connection made meanwhile.
    const r = await new Promise<Collected>((resolve) => setImmediate(() => {
      const sent = read(conns, ep, '/small');
      process.nextTick(() => busyWait(100)); // after net.connect's own next-tick connect call
      resolve(sent);
    }));
    await within(r.done, 5000, 'the answer');
    assert.deepEqual([r.status, r.failed], [200, undefined]);
  } finally {
    conns.close();
    stop();
  }
});

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a read never lands on a connection closed because the only client waiting on it went away', async () => {
  const { stop, ep, held } = await fakeMember();
  const conns = new MemberConnections({ dialTimeoutMs: 2000 });
  try {
    // Eight pipelining connections, one held read on each.
    const holds = Array.from({ length: 8 }, () => read(conns, ep, '/hold'));
    await waitUntil(() => held.length === 8, 'the held requests to arrive');
    // The first one's client goes away: nobody else waits on its connection, which is closed. In
    // the same turn (before the socket's 'close' event) other clients' reads come in.
    holds[0]!.handle.abort();
    const after = Array.from({ length: 4 }, () => read(conns, ep, '/small'));
    for (const release of held.splice(0)) release();
    await within(Promise.all(after.map((r) => r.done)), 5000, 'answers to the reads after the client left');
    assert.deepEqual(after.map((r) => [r.status, r.failed]), after.map(() => [200, undefined]));
    await within(Promise.all(holds.slice(1).map((h) => h.done)), 5000, 'the other held answers');
  } finally {
    conns.close();
    stop();
  }
});
