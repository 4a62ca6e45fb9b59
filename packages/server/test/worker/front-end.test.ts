/**
 * The primary's ClientHub and two workers' RemoteMembers over in-memory channels, with a real Store
 * behind a stand-in for consensus (a write applies at once): writes through one worker wake watches
 * held by the other, reads see every write answered before, history scans hand over to the live
 * stream without gaps or repeats, resets clear watches, big reads stream in bounded chunks, and the
 * member-wide client connection bound is granted across workers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicatedRequest } from '@deimos/protocol';
import { ClientHub, INSIDE_PATHS_LIMIT, INSIDE_PATHS_MAX_CHARS, type HubMember } from '../../src/member/client-hub.js';
import type { ApplyResult } from '../../src/member/apply-result.js';
import { applyKeysRequest } from '../../src/member/apply-request.js';
import { loadServerConfig, type ServerConfig } from '../../src/config/server-config.js';
import { MemoryBackend, Store, type StoreEvent, type Watcher } from '../../src/store/index.js';
import { createLogger } from '../../src/util/logger.js';
import { RemoteMember } from '../../src/worker/remote-member.js';
import { answerGet, answerWrite, type WriteKeysRequest } from '../../src/routes/keys-route.js';
import { BigReads } from '../../src/routes/big-reads.js';
import type { ResponseParts } from '../../src/http/write-response.js';
import type { BodySink } from '../../src/http/body-stream.js';
import type { Duplex } from 'node:stream';
import { duplexPair, Gate, until, Valve } from './support.js';

const logger = createLogger('error', 'test', () => {});

function config(): ServerConfig {
  const req = loadServerConfig([], {}, '/tmp');
  assert.equal(req.kind, 'run');
  return (req as { config: ServerConfig }).config;
}

function setup(opts: { historyMemorySize?: number; maxClientConns?: number; maxUnsentBytes?: number } = {}) {
  const store = new Store({ backend: new MemoryBackend(), historyMemorySize: opts.historyMemorySize });
  let raftIndex = 0;
  const member: HubMember = {
    proposeSerialized: async (json: string) => {
      const full = { ...JSON.parse(json), id: 'x' } as ReplicatedRequest;
      raftIndex++;
      try {
        return { event: applyKeysRequest(store, full), raftIndex, raftTerm: 1 } satisfies ApplyResult;
      } catch (err) {
        return { error: err as never, raftIndex, raftTerm: 1 };
      }
    },
    linearizableRead: async () => {},
    raft: () => ({ term: 1, appliedIndex: raftIndex, leaderId: '1', isLeader: true }),
    members: () => [],
    alarms: () => [],
    selfStats: () => ({ name: 'primary' }),
    debugVars: () => '{\n"raft.status": {}\n}\n',
    leaderStats: () => undefined,
    keyspaceHash: () => ({ hash: 'h', nodes: 0, storeIndex: store.index, appliedIndex: raftIndex }),
    addMember: async () => { throw new Error('no'); },
    removeMember: async () => {},
    updateMember: async () => {},
    renderMetrics: () => '# primary\n',
  };
  const hub = new ClientHub({ member, store, logger, isReady: () => true, maxClientConns: opts.maxClientConns, ...(opts.maxUnsentBytes !== undefined ? { maxUnsentBytes: opts.maxUnsentBytes } : {}) });
  const sockets = new Map<RemoteMember, Duplex>();
  const worker = (gate?: Gate, valve?: Valve): RemoteMember => {
    const [a, b] = duplexPair(gate, valve);
    hub.attach(a);
    const m = new RemoteMember({ socket: b, config: config(), logger });
    sockets.set(m, b);
    return m;
  };
  return { store, hub, worker, socketOf: (m: RemoteMember) => sockets.get(m)! };
}

/** Answers a keys request through the worker's routes and resolves with the response parts. */
function ask(m: RemoteMember, r: Parameters<typeof answerGet>[1] | WriteKeysRequest): Promise<ResponseParts> {
  return new Promise((resolve) => {
    if (r.kind === 'get') void answerGet(m, r, resolve, new BigReads());
    else void answerWrite(m, r, resolve);
  });
}

const set = (path: string, value: string): WriteKeysRequest => ({ kind: 'set', path, value, dir: false, refresh: false, noValueOnSuccess: false } as unknown as WriteKeysRequest);
const get = (path: string, extra: Record<string, unknown> = {}) => ({ kind: 'get', path, recursive: false, sorted: false, serializable: false, head: false, ...extra }) as unknown as Parameters<typeof answerGet>[1];
const body = (p: ResponseParts) => JSON.parse(String(p.body)) as { node?: { value?: string; nodes?: unknown[] }; errorCode?: number; index?: number };
const header = (p: ResponseParts, name: string) => p.headers[p.headers.indexOf(name) + 1];

async function takeOne(w: Watcher): Promise<StoreEvent> {
  await until(() => w.pending > 0 || w.closed);
  return w.take()[0]!;
}

describe('client workers in process', () => {
  test('a write through one worker wakes a watch held by another, and is read there', async () => {
    const { worker, hub } = setup();
    const a = worker();
    const b = worker();
    await Promise.all([a.started, b.started]);
    const watcher = await b.keys.watch('/k', {});
    const written = await ask(a, set('/k', 'v1'));
    assert.equal(written.status, 201);
    const event = await takeOne(watcher);
    assert.equal(event.node.value, 'v1');
    const read = await ask(b, get('/k'));
    assert.equal(read.status, 200);
    assert.equal(body(read).node?.value, 'v1');
    assert.equal(header(read, 'X-Etcd-Index'), event.index);
    hub.close();
  });

  test('a deleted dir wakes the watchers of paths it held on every worker, not those of paths it never held (as etcd)', async () => {
    const { worker, hub, store } = setup();
    const a = worker();
    const b = worker();
    await Promise.all([a.started, b.started]);
    await ask(a, set('/d/x', '1'));
    await ask(a, set('/d/sub/y', '2'));
    const held = await Promise.all([b.keys.watch('/d/x', {}), b.keys.watch('/d/sub', {}), a.keys.watch('/d/sub/y', {})]);
    const never = await Promise.all([b.keys.watch('/d/never', {}), a.keys.watch('/d/x/z', { recursive: true })]);
    const removed = store.delete('/d', { recursive: true });
    for (const w of held) assert.deepEqual(await takeOne(w), removed, w.key);
    // The next event on each never-held path is the one that makes it, not the deletion.
    await ask(b, set('/d/never', 'n'));
    assert.equal((await takeOne(never[0]!)).node.key, '/d/never');
    await ask(a, set('/d/x/z', 'z'));
    assert.equal((await takeOne(never[1]!)).node.key, '/d/x/z');
    hub.close();
  });

  test(`a deleted dir of more than ${INSIDE_PATHS_LIMIT} nodes, or of paths longer than ${INSIDE_PATHS_MAX_CHARS} characters together, is sent without its paths: every watcher below it on a worker is woken, and the worker stays`, async () => {
    const { worker, hub, store } = setup();
    const a = worker();
    await a.started;
    for (let i = 0; i <= INSIDE_PATHS_LIMIT; i++) store.set(`/big/k${i}`, { value: '' }, Date.now());
    const never = await a.keys.watch('/big/never', {});
    const removed = store.delete('/big', { recursive: true });
    assert.deepEqual(await takeOne(never), removed);
    // Few paths, but long ones (keys of 8 KiB): 200 of them are 1.6 MB.
    const long = 'k'.repeat(8000);
    for (let i = 0; i < 200; i++) store.set(`/long/${long}${i}`, { value: '' }, Date.now());
    const neverLong = await a.keys.watch('/long/never', {});
    const removedLong = store.delete('/long', { recursive: true });
    assert.deepEqual(await takeOne(neverLong), removedLong);
    assert.equal((await ask(a, get('/long'))).status, 404, 'the worker still answers');
    hub.close();
  });

  test('a write is answered only after its event reached the answering worker', async () => {
    const { worker, hub } = setup();
    const a = worker();
    await a.started;
    for (let i = 0; i < 50; i++) {
      const p = await ask(a, set(`/k${i}`, String(i)));
      assert.ok(a.keys.index >= Number(header(p, 'X-Etcd-Index')), 'the worker has the event of the answer');
    }
    hub.close();
  });

  test('a worker checks a write before it goes to the primary: one no member could apply is refused there', async () => {
    const { worker, hub, store } = setup();
    const a = worker();
    await a.started;
    const bad = await a.propose({ op: 'set', path: '/k', value: 5, dir: false, refresh: false, timeMs: 0 } as never);
    assert.equal(bad.error?.errorCode, 300);
    assert.match(String(bad.error?.cause), /invalid request: value is not a string/);
    assert.equal(store.index, 0, 'nothing reached the store');
    const good = await ask(a, set('/k', 'v'));
    assert.equal(good.status, 201);
    hub.close();
  });

  test('reads answered from a worker\'s cache follow every write made through the other worker', async () => {
    const { worker, hub } = setup();
    const a = worker();
    const b = worker();
    await Promise.all([a.started, b.started]);
    await ask(b, set('/c/k', 'v0'));
    for (let i = 1; i <= 20; i++) {
      // Twice: the second read is the cached one.
      for (const serializable of [true, false, true]) assert.equal(body(await ask(a, get('/c/k', { serializable }))).node?.value, `v${i - 1}`);
      const written = await ask(b, set('/c/k', `v${i}`));
      const read = await ask(a, get('/c/k', { serializable: true }));
      assert.equal(body(read).node?.value, `v${i}`, `read after write ${i}`);
      assert.equal(header(read, 'X-Etcd-Index'), header(written, 'X-Etcd-Index'));
    }
    // A directory's listing sees a child created elsewhere; a recursive delete elsewhere removes what was read below it.
    await ask(a, get('/c'));
    await ask(a, get('/c'));
    await ask(b, set('/c/new', 'n'));
    assert.equal(body(await ask(a, get('/c'))).node?.nodes?.length, 2);
    assert.equal(body(await ask(a, get('/c/new'))).node?.value, 'n');
    await ask(b, { kind: 'delete', path: '/c', dir: true, recursive: true } as unknown as WriteKeysRequest);
    assert.equal((await ask(a, get('/c/new'))).status, 404);
    assert.equal((await ask(a, get('/c'))).status, 404);
    hub.close();
  });

  test('a serializable read on a worker whose stream lags never answers older than a write the member acknowledged', async () => {
    const { worker, hub } = setup();
    const toA = new Gate();
    const a = worker(toA);
    const b = worker();
    await Promise.all([a.started, b.started]);
    await ask(b, set('/lag', 'old'));
    await ask(a, get('/lag', { serializable: true }));
    assert.equal(body(await ask(a, get('/lag', { serializable: true }))).node?.value, 'old');
    toA.hold(); // the primary's records to worker A (the event of the next write among them) wait
    const written = await ask(b, set('/lag', 'new'));
    assert.equal(written.status, 200);
    let answered: ResponseParts | undefined;
    void ask(a, get('/lag', { serializable: true })).then((p) => (answered = p));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, undefined, 'no answer from the stale cache');
    toA.release();
    await until(() => answered !== undefined);
    assert.equal(body(answered!).node?.value, 'new');
    hub.close();
  });

  test('reads answered from the cache count in the store stats', async () => {
    const { worker, hub, store } = setup();
    const a = worker();
    await a.started;
    await ask(a, set('/s', '1'));
    const before = store.stats.getsSuccess;
    for (let i = 0; i < 10; i++) assert.equal((await ask(a, get('/s', { serializable: true }))).status, 200);
    assert.ok(store.stats.getsSuccess - before < 10, 'some reads were answered by the worker alone');
    const stats = (await a.keys.stats()) as { getsSuccess: number };
    assert.equal(stats.getsSuccess - before, 10);
    hub.close();
  });

  test('errors keep etcd\'s JSON, code and index', async () => {
    const { worker, hub } = setup();
    const a = worker();
    await a.started;
    await ask(a, set('/x', '1'));
    const missing = await ask(a, get('/nope'));
    assert.equal(missing.status, 404);
    assert.equal(body(missing).errorCode, 100);
    assert.equal(body(missing).index, 1);
    const hidden = await ask(a, get('/_deimos/_auth'));
    assert.equal(hidden.status, 404);
    hub.close();
  });

  test('a watch older than the worker\'s window is served from the primary\'s history, then live, without gaps or repeats', async () => {
    const { worker, hub } = setup();
    const a = worker();
    const b = worker();
    await Promise.all([a.started, b.started]);
    for (let i = 1; i <= 1200; i++) await ask(a, set('/s', String(i)));
    await until(() => b.keys.index === 1200);
    const watcher = await b.keys.watch('/s', { stream: true, sinceIndex: 5, bufferSize: 5000 });
    await ask(a, set('/s', 'live'));
    await until(() => (watcher.pending as number) >= 1197 || watcher.closed);
    const got = watcher.take().map((e) => e.index);
    assert.deepEqual(got, Array.from({ length: 1197 }, (_, i) => i + 5));
    assert.equal(watcher.closed, false);
    hub.close();
  });

  test('a history scan of big events comes in several answers: a stream gets them all, then live, and stays open', async () => {
    const { worker, hub } = setup();
    const a = worker();
    const b = worker();
    await Promise.all([a.started, b.started]);
    // 1100 writes of ~12 KB (the window holds 1000 events): ~26 MB of history to scan, over the 8 MB an answer holds.
    const big = 'v'.repeat(12 * 1024);
    for (let i = 1; i <= 1100; i++) await ask(a, set('/big', `${i}:${big}`));
    await until(() => b.keys.index === 1100);
    const watcher = await b.keys.watch('/big', { stream: true, sinceIndex: 2, bufferSize: 5000 });
    await ask(a, set('/big', 'live'));
    await until(() => (watcher.pending as number) >= 1100 || watcher.closed);
    const got = watcher.take();
    assert.equal(watcher.closed, false, 'not ended as overflowed');
    assert.deepEqual(got.map((e) => e.index), Array.from({ length: 1100 }, (_, i) => i + 2));
    assert.equal(got[got.length - 1]!.node.value, 'live');
    // A long poll from as far back finds its event in the first answer.
    const poll = await b.keys.watch('/big', { sinceIndex: 3 });
    assert.equal((await takeOne(poll)).index, 3);
    hub.close();
  });

  test('a watch without waitIndex starts after the last event the worker received', async () => {
    const { worker, hub } = setup();
    const a = worker();
    await a.started;
    await ask(a, set('/w', '1'));
    const w = await a.keys.watch('/w', {});
    assert.equal(w.startIndex, 1);
    await ask(a, set('/w', '2'));
    assert.equal((await takeOne(w)).index, 2);
    hub.close();
  });

  test('a watch without waitIndex on a worker behind the stream starts after the primary\'s index, not its own', async () => {
    const { worker, hub, socketOf } = setup();
    const a = worker();
    const b = worker();
    await Promise.all([a.started, b.started]);
    // b takes nothing from its channel for a while: the event of the write below waits there.
    socketOf(b).pause();
    const first = await ask(a, set('/late', '1'));
    const pending = b.keys.watch('/late', {});
    socketOf(b).resume();
    const w = await pending;
    assert.equal(w.startIndex, Number(header(first, 'X-Etcd-Index')));
    const second = await ask(a, set('/late', '2'));
    assert.equal((await takeOne(w)).index, Number(header(second, 'X-Etcd-Index')), 'the write answered before the watch is not its event');
    hub.close();
  });

  test('a store reset on the primary clears the workers\' watches', async () => {
    const { worker, hub, store } = setup();
    const a = worker();
    await a.started;
    const w = await a.keys.watch('/r', { stream: true });
    store.reload();
    await until(() => w.closed);
    assert.equal(w.closeReason, 'cleared');
    hub.close();
  });

  /** One worker behind a channel of a 64 KiB bound that `valve` can stop, and writes of 4 KiB values in one synchronous run. */
  async function valvedWorker() {
    const s = setup({ maxUnsentBytes: 64 * 1024 });
    const valve = new Valve();
    const a = s.worker(undefined, valve);
    await a.started;
    const burst = (prefix: string, n: number): void => {
      for (let i = 0; i < n; i++) s.store.set(`${prefix}/k${i}`, { value: 'v'.repeat(4096) }, Date.now());
    };
    return { ...s, a, valve, burst };
  }

  test('a worker whose channel falls behind in one burst (a catch-up batch) is kept, and gets every event', async () => {
    const { hub, a, valve, burst } = await valvedWorker();
    const w = await a.keys.watch('/burst', { stream: true, recursive: true });
    valve.close();
    // Twice the bound in one synchronous run, as a follower applies a catch-up batch.
    burst('/burst', 32);
    assert.equal(hub.workerCount, 1, 'over the bound for an instant: not judged stuck');
    valve.open();
    await until(() => w.pending >= 32);
    assert.equal(w.closed, false);
    assert.deepEqual(w.take().map((e) => e.node.key), Array.from({ length: 32 }, (_, i) => `/burst/k${i}`));
    hub.close();
  });

  test('a worker holding four times the bound unsent is disconnected at once', async () => {
    const { hub, valve, burst } = await valvedWorker();
    valve.close();
    burst('/stuck', 80);
    await until(() => hub.workerCount === 0);
    hub.close();
  });

  test('a big recursive read streams in chunks acknowledged by the worker', async () => {
    const { worker, hub } = setup();
    const a = worker();
    await a.started;
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 1500; i++) await ask(a, set(`/big/k${i}`, value));
    const parts = await ask(a, get('/big', { recursive: true }));
    assert.ok(parts.stream !== undefined, 'streamed');
    let text = '';
    let ended = false;
    const sink: BodySink = {
      write: (t) => { text += String(t); return true; }, bufferedBytes: 0, onceDrain: (fn) => fn(), end: () => void (ended = true), abort: () => assert.fail('aborted'), gone: false,
    };
    parts.stream!.pipe(sink);
    await until(() => ended, 10_000);
    assert.equal((JSON.parse(text) as { node: { nodes: unknown[] } }).node.nodes.length, 1500);
    hub.close();
  });

  test('a big read to a client that takes nothing holds a bounded part of it on the worker', async () => {
    const { worker, hub } = setup();
    const a = worker();
    await a.started;
    const value = 'y'.repeat(1000);
    for (let i = 0; i < 1500; i++) await ask(a, set(`/slow/k${i}`, value));
    const parts = await ask(a, get('/slow', { recursive: true }));
    let received = 0;
    let drain: (() => void) | undefined;
    const sink: BodySink = {
      write: (t) => { received += t.length; return true; }, bufferedBytes: 10 ** 9, onceDrain: (fn) => void (drain = fn), end: () => assert.fail('ended'), abort: () => {}, gone: false,
    };
    parts.stream!.pipe(sink);
    await until(() => drain !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    const limits = new BigReads().limits;
    assert.ok(received <= limits.firstStep.maxChars + limits.highWaterBytes + limits.step.maxChars, `received ${received}`);
    assert.ok(received < 1_500_000, 'not the whole answer');
    parts.stream!.cancel();
    hub.close();
  });

  test('when the primary goes away, the worker is told and requests in flight get no answer', async () => {
    const { worker, hub } = setup();
    let closed = false;
    const [x, y] = duplexPair();
    hub.attach(x);
    const a = new RemoteMember({ socket: y, config: config(), logger, onClose: () => (closed = true) });
    await a.started;
    void worker;
    let settled = false;
    void a.linearizableRead().then(() => (settled = true), () => (settled = true));
    x.destroy();
    await until(() => closed);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'no answer: the connection is closed instead');
    hub.close();
  });
});

describe('the member-wide client connection bound', () => {
  /** Asks `m` for `n` slots; resolves with the answers in order. */
  const acquire = (m: RemoteMember, n: number): Promise<boolean[]> => Promise.all(Array.from({ length: n }, () => new Promise<boolean>((r) => m.connectionSlots.acquire(r))));

  test('slots are granted across workers up to the bound, in the order asked, and given back on close', async () => {
    const { hub, worker } = setup({ maxClientConns: 3 });
    const a = worker();
    const b = worker();
    assert.deepEqual(await acquire(a, 2), [true, true]);
    assert.deepEqual(await acquire(b, 2), [true, false], 'the third connection member-wide is the last one');
    assert.equal(hub.clientConnections, 3);
    assert.deepEqual(await acquire(a, 1), [false]);
    a.connectionSlots.release();
    await until(() => hub.clientConnections === 2);
    assert.deepEqual(await acquire(b, 2), [true, false]);
    assert.equal(hub.clientConnections, 3);
  });

  test('a worker that goes gives back every slot it held; releases past what it holds change nothing', async () => {
    const { hub, worker, socketOf } = setup({ maxClientConns: 4 });
    const a = worker();
    const b = worker();
    assert.deepEqual(await acquire(a, 3), [true, true, true]);
    assert.deepEqual(await acquire(b, 1), [true]);
    for (let i = 0; i < 5; i++) b.connectionSlots.release();
    await until(() => hub.clientConnections === 3);
    socketOf(a).destroy();
    await until(() => hub.clientConnections === 0);
    assert.deepEqual(await acquire(b, 4), [true, true, true, true]);
  });

  test('connections waiting for an answer are refused when the channel closes', async () => {
    const { worker, socketOf } = setup({ maxClientConns: 4 });
    const a = worker();
    const answers: boolean[] = [];
    a.connectionSlots.acquire((ok) => answers.push(ok));
    socketOf(a).destroy();
    await until(() => answers.length === 1);
    assert.deepEqual(answers, [false]);
  });
});
