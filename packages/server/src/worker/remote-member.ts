/**
 * A client worker's view of its member (docs/multi-core.md): the `MemberView` the routes run on,
 * over the channel to the primary. Writes, reads and calls are records answered by the primary's
 * `ClientHub`; watches are served here from the stream of applied events (`WatchWindow`); the
 * leader and readiness come with the primary's status records (the member list and the alarms are
 * asked of the primary each time); the auth state follows the applied events of its key.
 */
import type { Duplex } from 'node:stream';
import { OrderedAdmission } from '@deimos/net';
import { EtcdError, ErrorCode, type MemberJSON, type ReplicatedRequest } from '@deimos/protocol';
import { AuthError } from '../auth/auth-error.js';
import { replicatedRequestProblem } from '../member/request-check.js';
import { AuthGuard } from '../auth/auth-guard.js';
import { AUTH_STATE_PATH, AuthState } from '../auth/auth-state.js';
import type { ServerConfig } from '../config/server-config.js';
import type { GetKeysRequest } from '../http/keys-request.js';
import { errorParts, readParts, type ResponseParts } from '../http/write-response.js';
import type { ApplyResult } from '../member/apply-result.js';
import type { WorkerStatus } from '../member/client-hub.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { RemoteKeys } from '../routes/keys-access.js';
import type { DistributiveOmit, KeyspaceHash, MemberView, RaftFacts } from '../routes/member-view.js';
import { MembersApiError } from '../routes/members-routes.js';
import type { StoreStatsJSON, Watcher, WatchOptions } from '../store/index.js';
import { isReservedPath } from '../store/store-path.js';
import type { Logger } from '../util/logger.js';
import { NoSpaceError } from '../util/no-space.js';
import { ChannelEnd } from './channel/channel-end.js';
import { RemovedPathSet } from '../store/removed-paths.js';
import { decodeEventRecord, READ_RECURSIVE, READ_SORTED, RecordType, type ChannelRecord, type FailureKind } from './channel/records.js';
import { RequestTimeoutError } from '../raft-node/wait-registry.js';
import { causeOfTimeout } from '../member/timeout-cause.js';
import { ReadCache } from './read-cache.js';
import { RemoteListing } from './remote-listing.js';
import { WatchWindow, type HistoryAnswer } from './watch-window.js';

/** Requests a worker may have outstanding at the primary; more are refused at once (etcd's 300). */
export const MAX_OUTSTANDING_REQUESTS = 10_000;
/** Request bytes a worker may hold unsent to the primary; past it, new requests are refused likewise. */
export const MAX_UNSENT_REQUEST_BYTES = 64 * 1024 * 1024;
/** Extra time past the request timeout before a worker gives up on an answer of its own. */
const WORKER_GRACE_MS = 1000;

type Answer = (record: ChannelRecord | undefined) => void;

/** `cause`: why it failed, in etcd's words, when the primary said (a stopping member). */
type BarrierDone = (ok: boolean, cause?: string) => void;

/** Reads waiting for the next barrier of one kind (see `RemoteMember.get`), and how to ask for it. */
interface Barrier {
  waiters: BarrierDone[] | undefined;
  ask(done: BarrierDone): void;
}

/** Options of a {@link RemoteMember}. */
export interface RemoteMemberOptions {
  socket: Duplex;
  config: ServerConfig;
  logger: Logger;
  metrics?: MetricsRegistry;
  /**
   * Called once the channel to the primary is gone; requests in flight are never answered then, so
   * the owner must close the client connections (a worker process exits).
   */
  onClose?: (error: Error | undefined) => void;
  /** Called once when the primary says the member began to stop (`WorkerStatus.stopping`). */
  onStopping?: () => void;
}

function timeoutError(cause = 'etcdserver: request timed out'): EtcdError {
  return new EtcdError(ErrorCode.RaftInternal, cause, 0);
}

/** What a write the primary could not make is rejected with (the keys route answers it). */
function failureError(failure: FailureKind): Error {
  if (failure === 'nospace') return new NoSpaceError();
  // ('partial' is only ever a history answer's.)
  if (failure === 'overload' || failure === 'partial') return new Error('request failed: overload');
  return new RequestTimeoutError(causeOfTimeout(failure));
}

/** See the module comment. */
export class RemoteMember implements MemberView {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly startTime = new Date();
  readonly auth = new AuthState();
  readonly authGuard = new AuthGuard(this.auth);
  readonly keys: RemoteKeys;
  /** Resolves once the primary's first status arrived (the worker may serve then). */
  readonly started: Promise<void>;
  /** Resolves once the member serves clients (its attributes are published). */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly end: ChannelEnd;
  private window: WatchWindow | undefined;
  private status: WorkerStatus | undefined;
  private readonly pending = new Map<number, { answer: Answer; deadline: number }>();
  private readonly listings = new Map<number, RemoteListing>();
  private nextTag = 1;
  private readonly sweep: NodeJS.Timeout;
  /** Rendered answers of recent reads, exact at this worker's stream position (read-cache.ts). */
  private readonly cache = new ReadCache();
  /** Reads answered from the cache since the primary last asked (they count in its store stats). */
  private cachedGets = 0;
  private markStarted!: () => void;
  /** The member-wide connection bound, for this worker's client gate. */
  /**
   * The member-wide `--max-client-conns` (docs/multi-core.md section 9): a slot from the primary per
   * accepted connection (`ConnAcquire`, answered in order by `ConnGrant`; `ConnRelease` at its close),
   * refused when the primary does not answer within the request timeout.
   */
  readonly connectionSlots: OrderedAdmission;

  private readonly onStopping: (() => void) | undefined;

  constructor(options: RemoteMemberOptions) {
    this.onStopping = options.onStopping;
    this.config = options.config;
    this.logger = options.logger;
    this.metrics = options.metrics ?? new MetricsRegistry();
    // The watchers live here, not in the primary's store: /metrics sums this gauge over the processes.
    this.metrics.gauge('deimos_store_watchers', 'Live watchers.', () => this.window?.watcherCount ?? 0);
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.connectionSlots = new OrderedAdmission(
      () => this.end.send({ type: RecordType.ConnAcquire, count: 1 }),
      () => this.end.send({ type: RecordType.ConnRelease, count: 1 }),
      options.config.requestTimeoutMs,
      'the member did not answer in time (its consensus process is stalled or overloaded)',
    );
    this.end = new ChannelEnd(options.socket, {
      onRecord: (r) => this.onRecord(r),
      onClose: (err) => {
        // The primary is gone: nothing in flight is answered (an error would claim more than is
        // known: a write may have been applied); the owner closes the client connections, as a
        // crash of a single-process member would.
        clearInterval(this.sweep);
        this.connectionSlots.close('the member is stopping (its consensus process is gone)');
        this.pending.clear();
        for (const l of this.listings.values()) l.abort();
        this.listings.clear();
        options.onClose?.(err);
      },
    });
    this.sweep = setInterval(() => this.expire(), 250);
    this.sweep.unref();
    const self = this;
    this.keys = {
      remote: true,
      get index() {
        return self.window?.index ?? 0;
      },
      watch: (path, opts) => this.watch(path, opts),
      get: (r, linearizable, reply) => this.get(r, linearizable, reply),
      stats: async () => (await this.call('storeStats', [])) as StoreStatsJSON,
    };
  }

  get clusterId(): string {
    return this.config.clusterId;
  }

  get memberId(): string {
    return this.config.memberId;
  }

  /** Whether the member serves clients (its attributes are published). */
  get isReady(): boolean {
    return this.status?.ready === true;
  }

  /** Closes the channel (the worker is stopping). */
  close(): void {
    this.end.close();
  }

  raft(): RaftFacts {
    const s = this.status;
    if (s === undefined) return { term: 0, appliedIndex: 0, leaderId: '0', isLeader: false };
    return { term: s.term, appliedIndex: s.appliedIndex, leaderId: s.leaderId, isLeader: s.isLeader };
  }

  /** Asked of the primary: a membership change answered through another worker is seen here at once. */
  members(): Promise<MemberJSON[]> {
    return this.call('members', []) as Promise<MemberJSON[]>;
  }

  /**
   * Asked of the primary: the pushed status may be up to a status interval old, and a client told
   * NOSPACE through one worker must find the member unhealthy through any other (the disk-full e2e
   * test with workers caught the gap).
   */
  alarms(): Promise<string[]> {
    return this.call('alarms', []) as Promise<string[]>;
  }

  propose(request: DistributiveOmit<ReplicatedRequest, 'id'>): Promise<ApplyResult> {
    // Checked here, as the member checks its own (request-check.ts): the primary only adds the id.
    const problem = replicatedRequestProblem({ ...request, id: 'worker' } as ReplicatedRequest);
    if (problem !== undefined) {
      return Promise.resolve({ error: new EtcdError(ErrorCode.RaftInternal, `invalid request: ${problem}`, this.keys.index), raftIndex: 0, raftTerm: 0 });
    }
    return new Promise((resolve, reject) => {
      const sent = this.request(this.config.requestTimeoutMs, (r) => {
        if (r === undefined || r.type !== RecordType.Result) return reject(new Error('no answer from the primary'));
        this.noteRaft(r.raftIndex, r.raftTerm);
        const o = r.outcome;
        if (o?.kind === 'failure') return reject(failureError(o.failure));
        const result: ApplyResult = { raftIndex: r.raftIndex, raftTerm: r.raftTerm };
        if (r.event !== undefined) result.event = r.event;
        if (o?.kind === 'error') result.error = o.error;
        if (o?.kind === 'auth') result.authError = new AuthError(o.status, o.message);
        resolve(result);
      });
      if (sent === null) return;
      if (sent === undefined) return reject(new Error('too many requests in flight'));
      this.end.send({ type: RecordType.Propose, tag: sent, request: JSON.stringify(request) });
    });
  }

  linearizableRead(timeoutMs?: number): Promise<void> {
    return this.call('linearizableRead', timeoutMs === undefined ? [] : [timeoutMs]).then(() => undefined);
  }

  async addMember(peerURLs: string[]): Promise<MemberJSON> {
    return (await this.call('addMember', [peerURLs])) as MemberJSON;
  }

  async removeMember(id: string): Promise<void> {
    await this.call('removeMember', [id]);
  }

  async updateMember(id: string, peerURLs: string[]): Promise<void> {
    await this.call('updateMember', [id, peerURLs]);
  }

  keyspaceHash(): Promise<KeyspaceHash> {
    return this.call('keyspaceHash', []) as Promise<KeyspaceHash>;
  }

  selfStats(): Promise<Record<string, unknown>> {
    return this.call('selfStats', []) as Promise<Record<string, unknown>>;
  }

  async debugVars(): Promise<string> {
    return (await this.call('debugVars', [])) as string;
  }

  async leaderStats(): Promise<Record<string, unknown> | undefined> {
    return ((await this.call('leaderStats', [])) as Record<string, unknown> | null) ?? undefined;
  }

  /** The member's metrics: the primary's and every worker's own, merged there. */
  async renderMetrics(): Promise<string> {
    return (await this.call('metrics', [])) as string;
  }

  /**
   * Registers an answer handler; undefined when too many requests are outstanding, null once the
   * channel is gone: then the caller answers nothing at all (as for requests in flight then, see
   * the constructor; found by the front-end simulation, where a read queued behind a barrier was
   * answered "timed out" after the close).
   */
  private request(timeoutMs: number, answer: Answer): number | undefined | null {
    if (this.end.isClosed) return null;
    if (this.pending.size >= MAX_OUTSTANDING_REQUESTS || this.end.unsentBytes > MAX_UNSENT_REQUEST_BYTES) return undefined;
    const tag = this.nextTag++;
    this.pending.set(tag, { answer, deadline: Date.now() + timeoutMs + WORKER_GRACE_MS });
    return tag;
  }

  /** Gives up on answers past their deadline (the primary answers before; this is a backstop). */
  private expire(): void {
    const now = Date.now();
    for (const [tag, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(tag);
      p.answer(undefined);
    }
  }

  private call(method: string, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const tag = this.request(this.config.requestTimeoutMs * 2, (r) => {
        if (r === undefined || r.type !== RecordType.CallAnswer) return reject(new Error('no answer from the primary'));
        const value = JSON.parse(r.json) as unknown;
        if (r.ok) return resolve(value);
        const e = value as { message: string; status?: number; cause?: string };
        if (e.cause !== undefined) return reject(new RequestTimeoutError(e.cause));
        reject(e.status !== undefined ? new MembersApiError(e.status, e.message) : new Error(e.message));
      });
      if (tag === null) return;
      if (tag === undefined) return reject(new Error('too many requests in flight'));
      this.end.send({ type: RecordType.Call, tag, method, args: JSON.stringify(args) });
    });
  }

  /**
   * A read waits first for a barrier shared by every read of its kind in this turn: for a
   * linearizable read a ReadIndex round on the primary, for a serializable one the primary's
   * applied position (an answer that comes after every event the primary applied when asked, so a
   * write this member acknowledged through any worker is seen). Then it is answered from the cache
   * or asked of the primary.
   */
  private get(r: GetKeysRequest, linearizable: boolean, reply: (parts: ResponseParts) => void): void {
    // The cluster's own records are not in the clients' keyspace (store-path.ts).
    if (isReservedPath(r.path)) return reply(errorParts(new EtcdError(ErrorCode.KeyNotFound, r.path, this.keys.index), { clusterId: this.clusterId, head: r.head }));
    this.awaitBarrier(linearizable ? this.linearBarrier : this.positionBarrier, (ok, cause) => {
      if (ok) return this.readNow(r, reply);
      reply(errorParts(timeoutError(cause), { clusterId: this.clusterId, includeIndexHeaders: true, head: r.head }));
    });
  }

  private readonly linearBarrier: Barrier = {
    waiters: undefined,
    ask: (done) => this.linearizableRead().then(() => done(true), (err: unknown) => done(false, err instanceof RequestTimeoutError ? err.etcdCause : undefined)),
  };

  private readonly positionBarrier: Barrier = {
    waiters: undefined,
    ask: (done) => this.fetchIndex((index) => done(index !== undefined)),
  };

  private awaitBarrier(barrier: Barrier, done: BarrierDone): void {
    if (barrier.waiters === undefined) {
      barrier.waiters = [];
      // Reads that arrive in this turn share one barrier; one that arrives later needs a later one.
      setImmediate(() => {
        const waiters = barrier.waiters ?? [];
        barrier.waiters = undefined;
        if (this.end.isClosed) return; // nothing is answered once the channel is gone
        barrier.ask((ok, cause) => {
          for (const w of waiters) w(ok, cause);
        });
      });
    }
    barrier.waiters.push(done);
  }

  /** Answers a read at this worker's position: from the cache, else from the primary (filling the cache). */
  private readNow(r: GetKeysRequest, reply: (parts: ResponseParts) => void): void {
    const clusterId = this.clusterId;
    const flags = (r.recursive ? READ_RECURSIVE : 0) | (r.sorted ? READ_SORTED : 0);
    const window = this.window;
    const hit = window === undefined ? undefined : this.cache.get(r.path, flags);
    if (hit !== undefined) {
      this.cachedGets++;
      const s = this.status;
      const raftIndex = Math.max(hit.raftIndex, s?.appliedIndex ?? 0);
      const raftTerm = Math.max(hit.raftTerm, s?.term ?? 0);
      return reply(readParts(hit.body, { clusterId, etcdIndex: window!.index, raftIndex, raftTerm }, r.head));
    }
    const failed = (): void => reply(errorParts(timeoutError(), { clusterId, includeIndexHeaders: true, head: r.head }));
    const tag = this.request(this.config.requestTimeoutMs, (a) => {
      if (a === undefined || a.type !== RecordType.ReadAnswer) return failed();
      const o = a.outcome;
      if (o?.kind === 'error') return reply(errorParts(o.error, { clusterId, head: r.head }));
      if (o !== undefined) return failed();
      this.noteRaft(a.raftIndex, a.raftTerm);
      const headers = { clusterId, etcdIndex: a.index, raftIndex: a.raftIndex, raftTerm: a.raftTerm };
      // Kept only when the answer is at this worker's position (it always should be: see read-cache.ts).
      if (!a.listing && this.window !== undefined && this.window.index === a.index) {
        this.cache.put(r.path, flags, { body: a.body, raftIndex: a.raftIndex, raftTerm: a.raftTerm });
      }
      if (!a.listing) return reply(readParts(a.body, headers, r.head));
      const listing = new RemoteListing({
        ack: (bytes) => this.end.send({ type: RecordType.ListingAck, tag: tag!, bytes }),
        cancel: () => {
          this.listings.delete(tag!);
          this.end.send({ type: RecordType.ListingCancel, tag: tag! });
        },
      });
      if (r.head) {
        listing.cancel();
        return reply(readParts(undefined, headers));
      }
      this.listings.set(tag!, listing);
      reply(readParts(listing, headers));
    });
    if (tag === null) return;
    if (tag === undefined) return failed();
    this.end.send({ type: RecordType.Read, tag, flags, path: r.path });
  }

  private watch(path: string, options: WatchOptions): Watcher | Promise<Watcher> {
    if (this.window === undefined) throw new EtcdError(ErrorCode.RaftInternal, 'etcdserver: not ready', 0);
    return this.window.watch(path, options);
  }

  private fetchHistory(watcher: Watcher, done: (answer: HistoryAnswer) => void, fromIndex = watcher.sinceIndex): void {
    const tag = this.request(this.config.requestTimeoutMs, (r) => {
      if (r === undefined || r.type !== RecordType.HistoryAnswer) return done({ error: timeoutError() });
      if (r.outcome?.kind === 'error') return done({ error: r.outcome.error });
      const partial = r.outcome?.kind === 'failure' && r.outcome.failure === 'partial' && r.events.length > 0;
      if (partial) return done({ events: r.events, truncated: false, next: r.events[r.events.length - 1]!.index + 1 });
      done({ events: r.events, truncated: r.outcome !== undefined });
    });
    if (tag === null) return;
    if (tag === undefined) return done({ error: timeoutError() });
    this.end.send({ type: RecordType.History, tag, path: watcher.key, recursive: watcher.recursive, stream: watcher.stream, fromIndex, capacity: watcher.capacity });
  }

  /** Asks for the primary's store index: a history scan from 0 (see records.ts). */
  private fetchIndex(done: (index: number | undefined) => void): void {
    const tag = this.request(this.config.requestTimeoutMs, (r) => done(r?.type === RecordType.HistoryAnswer && r.outcome === undefined ? r.index : undefined));
    if (tag === null) return;
    if (tag === undefined) return done(undefined);
    this.end.send({ type: RecordType.History, tag, path: '/', recursive: false, stream: false, fromIndex: 0, capacity: 1 });
  }

  private noteRaft(index: number, term: number): void {
    const s = this.status;
    if (s === undefined || index === 0) return;
    if (index > s.appliedIndex) s.appliedIndex = index;
    if (term > s.term) s.term = term;
  }

  private onRecord(r: ChannelRecord): void {
    switch (r.type) {
      case RecordType.Event: {
        const { event, inside } = decodeEventRecord(r.bytes);
        if (event.node.key === AUTH_STATE_PATH) this.auth.loadValue(event.node.value);
        this.cache.invalidate(event);
        return this.window?.apply(event, inside === undefined ? undefined : new RemovedPathSet(inside));
      }
      case RecordType.Status:
        return this.onStatus(JSON.parse(r.json) as WorkerStatus);
      case RecordType.Reset:
        this.cache.clear();
        return this.window?.reset(r.index);
      case RecordType.ListingChunk: {
        const listing = this.listings.get(r.tag);
        if (r.end !== 0) this.listings.delete(r.tag);
        // A listing no one here takes (its read was given up on): the primary would otherwise
        // wait for acknowledgements, holding one of its few big-read slots.
        if (listing === undefined && r.end === 0) return this.end.send({ type: RecordType.ListingCancel, tag: r.tag });
        return listing?.chunk(r.text, r.end);
      }
      case RecordType.WatcherQuery: {
        const gets = this.cachedGets;
        this.cachedGets = 0;
        return this.end.send({ type: RecordType.WatcherCount, tag: r.tag, count: this.window?.watcherCount ?? 0, gets });
      }
      case RecordType.MetricsQuery:
        return this.end.send({ type: RecordType.MetricsText, tag: r.tag, text: this.metrics.render() });
      case RecordType.ConnGrant:
        return this.connectionSlots.answer(r.asked, r.granted);
      case RecordType.Result:
      case RecordType.ReadAnswer:
      case RecordType.HistoryAnswer:
      case RecordType.CallAnswer: {
        const p = this.pending.get(r.tag);
        if (p === undefined) {
          // Given up on (past its deadline); a listing it started is cancelled (see ListingChunk).
          if (r.type === RecordType.ReadAnswer && r.listing) this.end.send({ type: RecordType.ListingCancel, tag: r.tag });
          return;
        }
        this.pending.delete(r.tag);
        return p.answer(r);
      }
      default:
        this.end.destroy(new Error(`the primary sent record type ${r.type}`));
    }
  }

  /** Whether the primary said the member began to stop. */
  get stopping(): boolean {
    return this.status?.stopping === true;
  }

  private onStatus(s: WorkerStatus): void {
    const previous = this.status;
    if (s.stopping === true && previous?.stopping !== true) this.onStopping?.();
    // Raft facts never go back here, whatever order status and answers came in.
    if (previous !== undefined && s.appliedIndex < previous.appliedIndex) s.appliedIndex = previous.appliedIndex;
    this.status = s;
    if (s.index !== undefined) {
      this.window ??= new WatchWindow({
        startIndex: s.index, historyLimit: this.config.historySize,
        fetch: (w, done, from) => this.fetchHistory(w, done, from), start: (done) => this.fetchIndex(done),
      });
      this.window.historyStart = s.historyStart ?? 1;
      this.auth.loadValue(s.auth ?? undefined);
    }
    if (previous === undefined) this.markStarted();
    if (s.ready) this.markReady();
  }
}
