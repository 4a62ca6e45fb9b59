/**
 * The v2 keyspace store: the deterministic state machine that committed entries are applied to.
 * Every mutation takes its time from the caller (the leader's time in the entry) and never
 * reads a clock; reads render `ttl` against the time the caller passes.
 */
import assert from 'node:assert/strict';
import { ErrorCode, EtcdError } from '@deimos/protocol';
import type { EventJSON } from '@deimos/protocol';
import { makeEvent } from './event.js';
import type { MutationAction, NodeRecord, StoreEvent } from './event.js';
import { EventHistory } from './event-history.js';
import { StoreNode } from './node.js';
import { RemovedSubtree } from './removed-paths.js';
import { renderTree } from './render.js';
import { BigListing, ListingRenderer } from './listing-renderer.js';
import type { RenderStepLimits } from './listing-renderer.js';
import { LIVE_TREE } from './tree-view.js';
import type { AppliedPosition, NodeChange, StoreBackend } from './store-backend.js';
import { ROOT_PATH, assertCleanPath, childPath, isAtOrBelow, isReservedPath } from './store-path.js';
import { StoreStats } from './stats.js';
import type { StoreStatsJSON } from './stats.js';
import { Tree } from './tree.js';
import { Watcher } from './watcher.js';
import { WatcherHub } from './watcher-hub.js';
import type {
  CompareAndDeleteOptions, CompareAndSwapOptions, CompareOptions, CreateOptions, DeleteOptions, GetOptions, GetResult,
  ReadOptions, SetOptions, StoreRead, StoreOptions, UpdateOptions, WatchOptions,
} from './store-options.js';
import { StoreSnapshotter } from './store-snapshotter.js';
import type { StoreSnapshot } from './store-snapshotter.js';

/**
 * The last instant etcd can hold as an expiration (int64 nanoseconds since the epoch:
 * 2262-04-11T23:47:16.854Z). etcd's arithmetic overflows past it and keeps such a key for ever (an
 * expiration that wrapped to before 2000 counts as none), so a later one is no expiration here.
 * (Past ~2^63 ns of TTL etcd's multiplication wraps too, and the key may even expire at once; that
 * is an overflow artefact, and those keys are permanent here as well.) It also keeps every
 * expiration a valid RFC 3339 time with a four-digit year, which Go clients require.
 */
const LAST_EXPIRATION_MS = 9_223_372_036_854;

/**
 * The expiration of a node given `ttlSeconds` from `nowMs` (undefined: permanent, see
 * {@link LAST_EXPIRATION_MS}). Callers validate both numbers (see `checkWriteTimes`) before
 * anything is mutated, so this cannot fail halfway through a mutation.
 */
function expireAt(ttlSeconds: number | undefined, nowMs: number): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  const at = nowMs + ttlSeconds * 1000;
  return at > LAST_EXPIRATION_MS ? undefined : at;
}

/**
 * Rejects a TTL or a time that no member should have proposed (a replicated entry is input too):
 * a non-integer or negative TTL, a time that is not a finite number. Thrown before any change, so
 * the failed request changes nothing, the same on every member.
 */
function checkWriteTimes(ttlSeconds: number | undefined, nowMs: number, index: number): void {
  if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds >= 0)) {
    throw new EtcdError(ErrorCode.TTLNaN, 'invalid value for "ttl"', index);
  }
  if (!Number.isFinite(nowMs)) throw new EtcdError(ErrorCode.RaftInternal, `bad proposal time ${String(nowMs)}`, index);
}

function compareFailure(node: StoreNode, options: CompareOptions): string | undefined {
  const { prevValue, prevIndex } = options;
  const valueMismatch = prevValue !== undefined && prevValue !== '' && node.value !== prevValue;
  const indexMismatch = prevIndex !== undefined && prevIndex !== 0 && node.modifiedIndex !== prevIndex;
  const valueCause = `[${prevValue} != ${node.value}]`;
  const indexCause = `[${options.prevIndexText ?? prevIndex} != ${node.modifiedIndex}]`;
  if (valueMismatch && indexMismatch) return `${valueCause} ${indexCause}`;
  if (valueMismatch) return valueCause;
  if (indexMismatch) return indexCause;
  return undefined;
}

/** The record of a removed node as a removal event's `node` shows it: no value, no TTL. */
function removalRecord(node: StoreNode, index: number): NodeRecord {
  return { key: node.path, dir: node.isDir, modifiedIndex: index, createdIndex: node.createdIndex };
}

/**
 * The v2 keyspace. Mutations throw `EtcdError` (index = the current store index) and leave
 * the state untouched when they fail; each success advances the index by exactly one and
 * returns its event. Persistence: mutations accumulate changes; `commit(applied)` makes
 * everything since the previous commit durable in one backend transaction.
 */
export class Store {
  private readonly backend: StoreBackend;
  private readonly tree = new Tree();
  private readonly hub = new WatcherHub();
  private readonly history: EventHistory;
  private readonly counters = new StoreStats();
  private readonly streamBufferSize: number;
  private readonly snapshotter: StoreSnapshotter;
  private currentIndex = 0;
  private appliedPosition: AppliedPosition = { index: 0, term: 0 };
  /** The applied position changed since the last flush. */
  private positionDirty = false;
  private changes: NodeChange[] = [];
  private sink: StoreEventSink | undefined = undefined;

  /** Opens the store over a backend, loading the tree, indexes and history it holds. */
  constructor(options: StoreOptions) {
    this.backend = options.backend;
    this.history = new EventHistory(options.backend, {
      limit: options.historyLimit ?? 100_000,
      memorySize: options.historyMemorySize ?? 1000,
    });
    this.streamBufferSize = options.streamBufferSize ?? 1000;
    this.snapshotter = new StoreSnapshotter(this.backend, this.tree, this.history);
    this.reload();
  }

  /**
   * Sets where every event goes as it is made, in index order, and where a reload is told (the
   * client hub streams them to client workers). The sink must not throw: it runs inside the apply.
   */
  setEventSink(sink: StoreEventSink | undefined): void {
    this.sink = sink;
  }

  /** The store index: the index of the last successful mutation. */
  get index(): number {
    return this.currentIndex;
  }

  /** The raft position of the last applied batch (durable in the backend after the next flush). */
  get applied(): AppliedPosition {
    return this.appliedPosition;
  }

  /** The oldest event index `watch` can still start from. */
  get historyStartIndex(): number {
    return this.history.startIndex;
  }

  /** Number of live watchers. */
  get watcherCount(): number {
    return this.hub.count;
  }

  /** The earliest expiration (ms) of any node, or undefined when nothing expires. */
  get nextExpirationMs(): number | undefined {
    return this.tree.ttlHeap.peek()?.expireAtMs;
  }

  /** The `/v2/stats/store` counters. */
  get stats(): StoreStatsJSON {
    return this.counters.toJSON(this.hub.count);
  }

  /** Reads a node (`get`), rendered as etcd's JSON with `ttl` relative to `nowMs`. */
  get(path: string, options: GetOptions, nowMs: number): GetResult {
    assertCleanPath(path);
    return this.counters.count('get', () => {
      const node = this.tree.lookup(path, this.currentIndex);
      const rendered = renderTree(node, { recursive: options.recursive ?? false, sorted: options.sorted ?? false }, nowMs);
      const event: EventJSON = { action: 'get', node: rendered };
      return { event, index: this.currentIndex };
    });
  }

  /**
   * Reads a node as `get` does, as the answer's body text: whole when it renders within `limits`
   * (the common case, at once on the live tree), else as a {@link BigListing} to render in steps
   * over a view of the tree frozen now (close it if not rendered to the end). `quiet` leaves the
   * get out of the stats (a read tried again).
   */
  read(path: string, options: ReadOptions, nowMs: number, limits: RenderStepLimits): StoreRead {
    assertCleanPath(path);
    const read = (): StoreRead => {
      const node = this.tree.lookup(path, this.currentIndex);
      const renderer = new ListingRenderer(node, { recursive: options.recursive ?? false, sorted: options.sorted ?? false }, nowMs, LIVE_TREE);
      const first = renderer.render(limits);
      if (renderer.done) return { index: this.currentIndex, body: first };
      const view = this.tree.openView(this.currentIndex);
      renderer.continueOver(view);
      return { index: this.currentIndex, listing: new BigListing(first, renderer, view) };
    };
    return options.quiet === true ? read() : this.counters.count('get', read);
  }

  /** Number of open views of the tree (big reads being answered). */
  get openViews(): number {
    return this.tree.openViews;
  }

  /** `set`: creates or replaces a file, or (with `dir`) replaces a file by / creates an empty dir. */
  set(path: string, options: SetOptions, nowMs: number): StoreEvent {
    return this.counters.count('set', () => {
      checkWriteTimes(options.ttlSeconds, nowMs, this.currentIndex);
      this.assertWritable(path);
      let value = options.value ?? '';
      if (options.refresh === true) value = this.tree.lookup(path, this.currentIndex).value ?? '';
      return this.createNode(path, {
        action: 'set', dir: options.dir ?? false, value, expireAtMs: expireAt(options.ttlSeconds, nowMs),
        replace: true, refresh: options.refresh ?? false,
      }, nowMs);
    });
  }

  /** `create`: a new node that must not exist; `unique` appends the next index as a child name (in-order POST). */
  create(path: string, options: CreateOptions, nowMs: number): StoreEvent {
    return this.counters.count('create', () => {
      checkWriteTimes(options.ttlSeconds, nowMs, this.currentIndex);
      assertCleanPath(path);
      const target = options.unique === true
        ? childPath(path, String(this.currentIndex + 1).padStart(20, '0'))
        : path;
      this.assertWritable(target);
      return this.createNode(target, {
        action: 'create', dir: options.dir ?? false, value: options.value ?? '',
        expireAtMs: expireAt(options.ttlSeconds, nowMs), replace: false, refresh: false,
      }, nowMs);
    });
  }

  /** `update` (prevExist=true): new value and TTL for an existing node; a dir only with an empty value. */
  update(path: string, options: UpdateOptions, nowMs: number): StoreEvent {
    return this.counters.count('update', () => {
      checkWriteTimes(options.ttlSeconds, nowMs, this.currentIndex);
      this.assertWritable(path);
      const node = this.tree.lookup(path, this.currentIndex);
      const value = options.value ?? '';
      if (node.isDir && value !== '') throw new EtcdError(ErrorCode.NotFile, path, this.currentIndex);
      return this.rewrite(node, 'update', options.refresh === true ? node.value : value, options, nowMs);
    });
  }

  /** `compareAndSwap`: like update, for files only, when `prevValue` and `prevIndex` (if given) match. */
  compareAndSwap(path: string, options: CompareAndSwapOptions, nowMs: number): StoreEvent {
    return this.counters.count('compareAndSwap', () => {
      checkWriteTimes(options.ttlSeconds, nowMs, this.currentIndex);
      this.assertWritable(path);
      const node = this.checkCompare(path, options);
      return this.rewrite(node, 'compareAndSwap', options.refresh === true ? node.value : options.value ?? '', options, nowMs);
    });
  }

  /**
   * `delete`: a file, an empty dir (`dir`), or a whole subtree (`recursive`, one event). `nowMs` is
   * the event's time (absent in entries proposed by a build that did not send it).
   */
  delete(path: string, options: DeleteOptions, nowMs?: number): StoreEvent {
    return this.counters.count('delete', () => {
      this.assertWritable(path);
      const node = this.tree.lookup(path, this.currentIndex);
      const recursive = options.recursive ?? false;
      if (node.isDir) {
        if (!(options.dir ?? false) && !recursive) throw new EtcdError(ErrorCode.NotFile, path, this.currentIndex);
        if (!recursive && (node.children as Map<string, StoreNode>).size > 0) {
          throw new EtcdError(ErrorCode.DirNotEmpty, path, this.currentIndex);
        }
      }
      return this.remove(node, 'delete', nowMs);
    });
  }

  /** `compareAndDelete`: deletes a file when `prevValue` and `prevIndex` (if given) match; `nowMs` as for delete. */
  compareAndDelete(path: string, options: CompareAndDeleteOptions, nowMs?: number): StoreEvent {
    return this.counters.count('compareAndDelete', () => {
      // etcd compares before the root check: the root is a directory, "Not a file" (no cause).
      if (path === ROOT_PATH) throw new EtcdError(ErrorCode.NotFile, '', this.currentIndex);
      this.assertWritable(path);
      return this.remove(this.checkCompare(path, options), 'compareAndDelete', nowMs);
    });
  }

  /**
   * Applies the SYNC entry: removes every node whose expiration is <= `nowMs`, in
   * (expiration, path) order, one `expire` event and one index each (a dir takes its subtree).
   */
  deleteExpiredKeys(nowMs: number): StoreEvent[] {
    const events: StoreEvent[] = [];
    for (let node = this.tree.ttlHeap.peek(); node !== undefined; node = this.tree.ttlHeap.peek()) {
      if ((node.expireAtMs as number) > nowMs) break;
      events.push(this.remove(node, 'expire', nowMs));
      this.counters.expired();
    }
    return events;
  }

  /**
   * Registers a watch. With `sinceIndex` <= the store index the history is scanned first
   * (throws 401 when `sinceIndex` is older than the kept history); a one-shot watcher that
   * finds its event there is returned already closed with the event buffered.
   */
  watch(path: string, options: WatchOptions): Watcher {
    assertCleanPath(path);
    const requested = options.sinceIndex ?? 0;
    const stream = options.stream ?? false;
    const watcher = new Watcher({
      key: path,
      recursive: options.recursive ?? false,
      stream,
      sinceIndex: requested > 0 ? requested : this.currentIndex + 1,
      startIndex: this.currentIndex,
      capacity: stream ? options.bufferSize ?? this.streamBufferSize : 1,
    });
    if (requested > 0 && requested <= this.currentIndex) {
      const start = this.history.startIndex;
      if (requested < start) {
        throw new EtcdError(ErrorCode.EventIndexCleared, `the requested history has been cleared [${start}/${requested}]`, this.currentIndex);
      }
      this.history.scan(requested, (event) => {
        if (matchesHistory(event, watcher)) watcher.deliver(event);
        return watcher.closed;
      });
      if (watcher.closed) return watcher;
    }
    this.hub.add(watcher);
    return watcher;
  }

  /**
   * Makes every change since the previous commit durable in one backend transaction, with the
   * raft position of the last applied entry: {@link markApplied} then {@link flush}.
   */
  commit(applied: AppliedPosition): void {
    this.markApplied(applied);
    this.flush();
  }

  /**
   * Records the raft position of the last applied batch; it reaches the backend, with the changes,
   * at the next {@link flush}. Until then a restart replays those entries from the raft log.
   */
  markApplied(applied: AppliedPosition): void {
    assert.ok(applied.index >= this.appliedPosition.index, 'applied index went backwards');
    if (applied.index !== this.appliedPosition.index || applied.term !== this.appliedPosition.term) this.positionDirty = true;
    this.appliedPosition = applied;
  }

  /** Writes the changes and events since the last flush, and the applied position, in one backend transaction. */
  flush(): void {
    if (!this.positionDirty && !this.hasUncommittedChanges) return;
    this.backend.commit({
      changes: this.changes,
      events: this.history.uncommittedEvents(),
      storeIndex: this.currentIndex,
      historyStartIndex: this.history.startIndex,
      applied: this.appliedPosition,
    });
    this.changes = [];
    this.history.markCommitted();
    this.positionDirty = false;
  }

  /**
   * Returns once everything flushed is written by the backend (a backend with a writer thread
   * commits behind {@link flush}); throws what stops it (SQLITE_FULL), the batch staying queued.
   */
  waitDurable(): void {
    this.backend.drain?.();
  }

  /** Changes and events not yet flushed to the backend. */
  get unflushedCount(): number {
    return this.changes.length + this.history.uncommittedCount;
  }

  /** Whether mutations have been applied since the last `commit`. */
  get hasUncommittedChanges(): boolean {
    return this.changes.length > 0 || this.history.uncommittedCount > 0;
  }

  /** The full state as a plain JSON-able object (tree, index, recent history), for raft snapshots. */
  toSnapshot(): StoreSnapshot {
    return this.snapshotter.capture(this.currentIndex);
  }

  /**
   * Replaces the whole state with a snapshot taken at raft position `applied`, durably. Live
   * watchers are closed as `cleared` (clients resume by index).
   */
  fromSnapshot(snapshot: StoreSnapshot, applied: AppliedPosition): void {
    assert.ok(!this.hasUncommittedChanges, 'snapshot install with uncommitted changes');
    this.snapshotter.install(snapshot, applied);
    this.reload();
  }

  /**
   * Re-reads everything from the backend (after the backend's file was replaced, e.g.
   * `SqliteBackend.restoreFrom`). Stream watchers are closed as `cleared` (clients resume by
   * index); a long poll still waiting is answered from the new history, or goes on waiting, as
   * etcd's does (ended without its event, a client such as etcd's Go client failed on the empty
   * body); one whose index the new history no longer holds is closed as `cleared`. `prepared` is
   * the backend's tree built beforehand (`preloadTree` of the file now in place), which is taken.
   */
  reload(prepared?: Tree): void {
    const loaded = this.snapshotter.load(prepared);
    this.currentIndex = loaded.storeIndex;
    this.appliedPosition = loaded.applied;
    this.positionDirty = false;
    this.changes = [];
    const polls = this.hub.takeOneShots();
    this.hub.closeAll('cleared');
    this.rewatch(polls);
    this.sink?.reset(this.currentIndex);
  }

  /**
   * Registers long polls again after a reload, then replays the new history to them once, through
   * the hub and so by its live rules (one pass whatever the number of polls: a scan per poll was
   * history x polls of work on the member's thread at each snapshot install).
   */
  private rewatch(polls: readonly Watcher[]): void {
    let from = Number.POSITIVE_INFINITY;
    for (const watcher of polls) {
      if (watcher.sinceIndex <= this.currentIndex && watcher.sinceIndex < this.history.startIndex) {
        watcher.finish('cleared');
        continue;
      }
      this.hub.add(watcher);
      from = Math.min(from, watcher.sinceIndex);
    }
    if (from > this.currentIndex) return;
    this.history.scan(from, (event) => {
      this.hub.notify(event);
      return this.hub.count === 0;
    });
  }

  private assertWritable(path: string): void {
    assertCleanPath(path);
    if (path === ROOT_PATH) throw new EtcdError(ErrorCode.RootROnly, ROOT_PATH, this.currentIndex);
  }

  private checkCompare(path: string, options: CompareAndDeleteOptions): StoreNode {
    const node = this.tree.lookup(path, this.currentIndex);
    if (node.isDir) throw new EtcdError(ErrorCode.NotFile, path, this.currentIndex);
    const cause = compareFailure(node, options);
    if (cause !== undefined) throw new EtcdError(ErrorCode.TestFailed, cause, this.currentIndex);
    return node;
  }

  private createNode(path: string, spec: CreateSpec, nowMs: number): StoreEvent {
    const resolution = this.tree.resolveDir(path.slice(0, Math.max(1, path.lastIndexOf('/'))), this.currentIndex);
    const existing = resolution.missing.length === 0
      ? (resolution.deepest.children as Map<string, StoreNode>).get(path)
      : undefined;
    if (existing !== undefined) {
      if (!spec.replace) throw new EtcdError(ErrorCode.NodeExist, path, this.currentIndex);
      if (existing.isDir) throw new EtcdError(ErrorCode.NotFile, path, this.currentIndex);
    }
    const index = this.currentIndex + 1;
    const { dir: parent, created } = this.tree.createMissing(resolution, index);
    for (const dir of created) this.changes.push({ kind: 'put', row: dir.toRow() });
    const prevNode = existing?.record();
    if (existing !== undefined) this.tree.detach(existing);
    const node = spec.dir
      ? StoreNode.dir(path, index, spec.expireAtMs)
      : StoreNode.file(path, spec.value, index, spec.expireAtMs);
    this.tree.attach(parent, node);
    this.changes.push({ kind: 'put', row: node.toRow() });
    return this.publish(makeEvent(spec.action, node.record(), prevNode, spec.refresh, nowMs));
  }

  private rewrite(
    node: StoreNode, action: MutationAction, value: string | undefined,
    options: { ttlSeconds?: number; refresh?: boolean }, nowMs: number,
  ): StoreEvent {
    const prevNode = node.record();
    const index = this.currentIndex + 1;
    this.tree.rewrite(node, value, index);
    this.tree.setExpiry(node, expireAt(options.ttlSeconds, nowMs));
    this.changes.push({ kind: 'put', row: node.toRow() });
    // A directory kept its own index (see Tree.rewrite); its event shows the update's.
    const record = node.isDir ? { ...node.record(), modifiedIndex: index } : node.record();
    return this.publish(makeEvent(action, record, prevNode, options.refresh ?? false, nowMs));
  }

  private remove(node: StoreNode, action: MutationAction, nowMs: number | undefined): StoreEvent {
    const prevNode = node.record();
    this.tree.detach(node);
    this.changes.push({ kind: 'deleteTree', path: node.path });
    const event = makeEvent(action, removalRecord(node, this.currentIndex + 1), prevNode, false, nowMs);
    return this.publish(event, node.isDir ? new RemovedSubtree(node) : undefined);
  }

  /** `inside`: a removed directory's paths, for live watchers only (the history keeps no paths). */
  private publish(event: StoreEvent, inside?: RemovedSubtree): StoreEvent {
    assert.equal(event.index, this.currentIndex + 1, 'a mutation must take exactly the next index');
    this.currentIndex = event.index;
    this.history.append(event);
    this.hub.notify(event, inside);
    this.sink?.event(event, inside);
    return event;
  }
}

/** Receives the store's events as they are made (see `Store.setEventSink`). */
export interface StoreEventSink {
  /** One event, right after it was applied; `inside`: the paths a removed directory held. */
  event(event: StoreEvent, inside?: RemovedSubtree): void;
  /** The whole state was replaced (a snapshot install): the store is now at `index`. */
  reset(index: number): void;
}

interface CreateSpec {
  readonly action: MutationAction;
  readonly dir: boolean;
  readonly value: string;
  readonly expireAtMs: number | undefined;
  readonly replace: boolean;
  readonly refresh: boolean;
}

/**
 * Whether a history event answers a watcher: etcd's scan rule, with a proper path prefix. The
 * cluster's own records answer none (see `RESERVED_PREFIX`).
 */
export function matchesHistory(event: StoreEvent, watcher: Watcher): boolean {
  if (event.refresh || event.index < watcher.sinceIndex) return false;
  const key = event.node.key;
  if (isReservedPath(key)) return false;
  if (key === watcher.key) return true;
  if (watcher.recursive && isAtOrBelow(key, watcher.key)) return true;
  const removedDir = (event.action === 'delete' || event.action === 'expire') && event.node.dir;
  return removedDir && isAtOrBelow(watcher.key, key);
}
