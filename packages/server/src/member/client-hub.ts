/**
 * The primary's side of its client workers (docs/multi-core.md): it serves the records each worker
 * sends over its channel (writes to propose, reads, history scans, calls) with the member and store
 * of this process, and streams every applied event to every worker.
 *
 * Ordering: events are queued on every channel inside the apply (the store's event sink), and an
 * answer is queued when it is ready, after the events of the state it reflects; a channel sends in
 * queue order. So a worker has every event an answer reflects before the answer: its watches are
 * never behind what its clients were told, and a write is answered only once the worker has its
 * event. Bounds: a worker whose channel has held more than `maxUnsentBytes` unsent for
 * {@link LAG_GRACE_MS} (a stuck process), or holds four times that at any moment, is disconnected
 * (its process exits and is started again); big reads stream under BigReads and only as fast as
 * the worker acknowledges them.
 */
import { EtcdError, ErrorCode } from '@deimos/protocol';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { AuthError } from '../auth/auth-error.js';
import { AUTH_STATE_PATH } from '../auth/auth-state.js';
import { BigReads } from '../routes/big-reads.js';
import { MembersApiError } from '../routes/members-routes.js';
import type { Store, StoreEvent, StoreEventSink, StoreRead } from '../store/index.js';
import type { Logger } from '../util/logger.js';
import { mergePrometheusTexts, RetiredCounters } from '@deimos/net';
import { timeoutKindOf } from './timeout-cause.js';
import { RequestTimeoutError } from '../raft-node/wait-registry.js';
import { NoSpaceError } from '../util/no-space.js';
import { ChannelEnd } from '../worker/channel/channel-end.js';
import { encodeAppliedEvent } from '../worker/channel/event-codec.js';
import type { RemovedSubtree } from '../store/removed-paths.js';
import { READ_LINEARIZABLE, READ_RECURSIVE, READ_SORTED, RecordType, type ChannelRecord, type Outcome } from '../worker/channel/records.js';
import type { ApplyResult } from './apply-result.js';
import { ListingSink } from './listing-sink.js';
import type { Member } from './member.js';

/** Unsent bytes past which a worker is disconnected (it cannot be keeping up). */
export const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

/**
 * How long a channel may hold more than `maxUnsentBytes` before its worker is judged stuck. A
 * follower applying a catch-up batch queues every event of it in one synchronous run, before the
 * socket can drain: judged at once, ~1,200 writes of 100 KB cut healthy workers (and their
 * clients' connections) as if they were stuck.
 */
export const LAG_GRACE_MS = 10_000;

/** Past this many times `maxUnsentBytes` unsent, a worker is disconnected at once (memory). */
const HARD_UNSENT_FACTOR = 4;
/**
 * The most paths of a removed directory sent with its event. A bigger directory is sent without
 * them, and a worker then wakes every watcher below it (as a history scan matches): exact for the
 * deletions clients make, bounded for one that takes out a huge subtree.
 */
export const INSIDE_PATHS_LIMIT = 10_000;
/** ...and the most characters they may take together (a frame to each worker; the channel's bound is 64 MiB). */
export const INSIDE_PATHS_MAX_CHARS = 1024 * 1024;
/** Encoded size of events past which a history answer is cut (the worker asks for the rest next). */
const MAX_HISTORY_ANSWER_CHARS = 8 * 1024 * 1024;
/** How often changed status (leader, term, readiness) is pushed to workers. */
const STATUS_INTERVAL_MS = 50;
/** How long a worker may take to tell its watcher count or its metrics. */
const WATCHER_QUERY_TIMEOUT_MS = 1000;
/**
 * How often the workers' counts are collected unasked: what a worker counted since the last
 * collection is lost when it dies (it was everything since the last scrape, up to a scrape interval).
 */
const COUNTS_PULL_MS = 1000;

/** What the hub needs of the member (the real `Member` fits; tests may give less). */
export type HubMember = Pick<Member, 'proposeSerialized' | 'linearizableRead' | 'raft' | 'members' | 'alarms' | 'selfStats' | 'leaderStats' | 'debugVars' | 'keyspaceHash' | 'addMember' | 'removeMember' | 'updateMember' | 'renderMetrics'>;

/** Options of a {@link ClientHub}. */
export interface ClientHubOptions {
  member: HubMember;
  store: Store;
  logger: Logger;
  /** Whether the member serves clients yet (its attributes are published). */
  isReady: () => boolean;
  /** Whether the member began to stop (see `WorkerStatus.stopping`). */
  isStopping?: () => boolean;
  maxUnsentBytes?: number;
  /** The member-wide bound on client connections (`--max-client-conns`) granted to the workers. */
  maxClientConns?: number;
  /**
   * How long a worker waits for a read's answer (the request timeout): a big read admitted later
   * is not started, since its worker has answered it "timed out" and would take none of it.
   */
  requestTimeoutMs?: number;
}

/** The status a worker follows (JSON in a `Status` record). */
export interface WorkerStatus {
  ready: boolean;
  term: number;
  appliedIndex: number;
  leaderId: string;
  isLeader: boolean;
  /** Present in the first status and after a reset: the store index, the history's oldest index and the stored auth state. */
  historyStart?: number;
  index?: number;
  auth?: string | null;
  /** Present once the member began to stop: workers refuse new connections and close the open ones after their answers. */
  stopping?: true;
}

/** One attached worker. */
class WorkerLink {
  readonly end: ChannelEnd;
  readonly listings = new Map<number, ListingSink>();
  lastStatus = '';
  /** Answers awaited to watcher and metrics queries, by tag. */
  readonly watcherQueries = new Map<number, (count: number) => void>();
  readonly metricsQueries = new Map<number, (text: string) => void>();
  /** Client connection slots this worker holds (given back all at once if it goes). */
  connections = 0;
  /** Since when (ms, monotonic clock) its channel has held more than the bound unsent, if it does. */
  overSinceMs: number | undefined;

  constructor(socket: Duplex, onRecord: (link: WorkerLink, r: ChannelRecord) => void, onClose: (link: WorkerLink, err: Error | undefined) => void) {
    this.end = new ChannelEnd(socket, { onRecord: (r) => onRecord(this, r), onClose: (err) => onClose(this, err) });
  }
}

/** See the module comment. */
export class ClientHub implements StoreEventSink {
  private readonly links = new Set<WorkerLink>();
  /** The counters of workers that are gone (the member's /metrics never goes backwards). */
  private readonly retiredCounters = new RetiredCounters<WorkerLink>();
  private readonly bigReads = new BigReads();
  private readonly statusTimer: NodeJS.Timeout;
  private readonly maxUnsentBytes: number;
  private nextQueryTag = 1;
  /** Successful reads the workers answered from their caches (reported with watcher counts). */
  private cachedGets = 0;
  private readonly countsTimer: NodeJS.Timeout;
  private pulling = false;
  /** Client connection slots granted to the workers, member-wide. */
  private connections = 0;

  constructor(private readonly options: ClientHubOptions) {
    this.maxUnsentBytes = options.maxUnsentBytes ?? MAX_UNSENT_BYTES;
    options.store.setEventSink(this);
    this.statusTimer = setInterval(() => this.pushStatus(), STATUS_INTERVAL_MS);
    this.statusTimer.unref();
    this.countsTimer = setInterval(() => this.pullCounts(), COUNTS_PULL_MS);
    this.countsTimer.unref();
  }

  /** Client connections the workers hold slots for (the member's open client connections). */
  get clientConnections(): number {
    return this.connections;
  }

  /** Workers attached now. */
  get workerCount(): number {
    return this.links.size;
  }

  /** Serves a worker on `socket`; the first record it gets is the status with the store index and auth state. */
  attach(socket: Duplex): void {
    const link = new WorkerLink(socket, (l, r) => this.onRecord(l, r), (l, err) => this.detach(l, err));
    this.links.add(link);
    link.end.send({ type: RecordType.Status, json: JSON.stringify(this.status(true)) });
  }

  /** Stops serving every worker. */
  close(): void {
    clearInterval(this.statusTimer);
    clearInterval(this.countsTimer);
    this.options.store.setEventSink(undefined);
    for (const link of this.links) link.end.close();
  }

  /**
   * @internal The store's sink: each applied event, encoded once, to every worker, with the paths a
   * removed directory held (up to {@link INSIDE_PATHS_LIMIT} paths and {@link INSIDE_PATHS_MAX_CHARS}
   * characters) for the workers' watchers. Never throws.
   */
  event(event: StoreEvent, inside?: RemovedSubtree): void {
    if (this.links.size === 0) return;
    let bytes: Uint8Array;
    try {
      // A scratch view: each link's send copies it into its frame at once.
      bytes = encodeAppliedEvent(event, inside?.list(INSIDE_PATHS_LIMIT, INSIDE_PATHS_MAX_CHARS), true);
    } catch (err) {
      // The apply must go on whatever happens here: the workers lose their stream and start again.
      this.options.logger.error('cannot encode an applied event for the client workers', { error: (err as Error).message });
      for (const link of this.links) link.end.destroy(err as Error);
      return;
    }
    for (const link of this.links) this.sendBounded(link, { type: RecordType.Event, bytes });
  }

  /** @internal The store's sink: the state was replaced; workers clear their watches. */
  reset(index: number): void {
    for (const link of this.links) {
      link.end.send({ type: RecordType.Reset, index });
      link.end.send({ type: RecordType.Status, json: JSON.stringify(this.status(true)) });
    }
  }

  private sendBounded(link: WorkerLink, record: ChannelRecord): void {
    link.end.send(record);
    const unsent = link.end.unsentBytes;
    if (unsent <= this.maxUnsentBytes) {
      link.overSinceMs = undefined;
      return;
    }
    const now = performance.now();
    link.overSinceMs ??= now;
    if (unsent > this.maxUnsentBytes * HARD_UNSENT_FACTOR || now - link.overSinceMs > LAG_GRACE_MS) {
      this.options.logger.warn('a client worker does not take its channel: disconnecting it', { unsentBytes: unsent });
      link.end.destroy(new Error('client worker lagging'));
    }
  }

  private detach(link: WorkerLink, err: Error | undefined): void {
    this.links.delete(link);
    this.retiredCounters.retire(link);
    // Its connections closed with it.
    this.connections -= link.connections;
    link.connections = 0;
    for (const sink of link.listings.values()) sink.cancel();
    for (const answer of link.watcherQueries.values()) answer(0);
    link.watcherQueries.clear();
    for (const answer of link.metricsQueries.values()) answer('');
    link.metricsQueries.clear();
    link.listings.clear();
    if (err !== undefined) this.options.logger.warn('client worker channel broken', { error: err.message });
  }

  /**
   * The store's counters, with the watchers every worker holds when it gets the question (so a
   * watch a client closed before asking is no longer counted). A worker that does not answer
   * within a second counts none.
   */
  private async storeStats(): Promise<unknown> {
    const counts = await this.askWorkers((link, tag) => {
      link.end.send({ type: RecordType.WatcherQuery, tag });
      return link.watcherQueries as Map<number, (v: number) => void>;
    }, 0);
    // Taken after the answers: they carried the reads the workers answered from their caches.
    const stats = this.options.store.stats;
    return { ...stats, getsSuccess: stats.getsSuccess + this.cachedGets, watchers: counts.reduce((a, b) => a + b, stats.watchers) };
  }

  /** The primary's metrics and every worker's own, merged (series summed over the processes). */
  private async metricsText(): Promise<string> {
    const own = await this.options.member.renderMetrics();
    const workers = await this.workerMetrics();
    return mergePrometheusTexts([own, ...workers, this.retiredCounters.text()]);
  }

  /** Every worker's metrics text, each remembered for when that worker is gone. */
  private async workerMetrics(): Promise<string[]> {
    const asked = [...this.links];
    const workers = await this.askWorkers((link, tag) => {
      link.end.send({ type: RecordType.MetricsQuery, tag });
      return link.metricsQueries as Map<number, (v: string) => void>;
    }, '');
    // askWorkers asks the links in this same order; one gone meanwhile was retired already.
    workers.forEach((text, i) => {
      if (this.links.has(asked[i]!)) this.retiredCounters.remember(asked[i]!, text);
    });
    return workers;
  }

  /** Collects the workers' counts (their cached reads, their metrics) so that a death loses little of them. */
  private pullCounts(): void {
    if (this.pulling || this.links.size === 0) return;
    this.pulling = true;
    void Promise.all([this.storeStats(), this.workerMetrics()]).finally(() => (this.pulling = false));
  }

  /** Asks every worker (`ask` sends the query and gives the map its answer lands in); `missing` for one silent past a second. */
  private askWorkers<T>(ask: (link: WorkerLink, tag: number) => Map<number, (v: T) => void>, missing: T): Promise<T[]> {
    return Promise.all([...this.links].map((link) => new Promise<T>((resolve) => {
      const tag = this.nextQueryTag++;
      const answers = ask(link, tag);
      const timer = setTimeout(() => {
        answers.delete(tag);
        resolve(missing);
      }, WATCHER_QUERY_TIMEOUT_MS);
      answers.set(tag, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
    })));
  }

  private status(full: boolean): WorkerStatus {
    const m = this.options.member;
    const raft = m.raft();
    const s: WorkerStatus = {
      ready: this.options.isReady(), term: raft.term, appliedIndex: raft.appliedIndex, leaderId: raft.leaderId, isLeader: raft.isLeader,
    };
    if (this.options.isStopping?.() === true) s.stopping = true;
    if (full) {
      s.historyStart = this.options.store.historyStartIndex;
      s.index = this.options.store.index;
      s.auth = authValue(this.options.store) ?? null;
    }
    return s;
  }

  /** Sends the status to workers whose last one differs in more than the applied index. */
  private pushStatus(): void {
    if (this.links.size === 0) return;
    const s = this.status(false);
    const key = JSON.stringify({ ...s, appliedIndex: 0 });
    const json = JSON.stringify(s);
    for (const link of this.links) {
      if (link.lastStatus === key) continue;
      link.lastStatus = key;
      link.end.send({ type: RecordType.Status, json });
    }
  }

  /** Serves one record; a failure breaks that worker's channel (it starts again), never the primary. */
  private onRecord(link: WorkerLink, r: ChannelRecord): void {
    try {
      this.serveRecord(link, r);
    } catch (err) {
      this.options.logger.error('client worker request failed', { record: r.type, error: (err as Error).stack ?? String(err) });
      link.end.destroy(err as Error);
    }
  }

  private serveRecord(link: WorkerLink, r: ChannelRecord): void {
    switch (r.type) {
      case RecordType.Propose:
        return this.propose(link, r.tag, r.request);
      case RecordType.Read:
        return this.read(link, r.tag, r.flags, r.path);
      case RecordType.History:
        return this.history(link, r);
      case RecordType.Call:
        return this.call(link, r.tag, r.method, r.args);
      case RecordType.ListingAck:
        return link.listings.get(r.tag)?.ack(r.bytes);
      case RecordType.ListingCancel:
        return link.listings.get(r.tag)?.cancel();
      case RecordType.WatcherCount: {
        this.cachedGets += r.gets;
        const answer = link.watcherQueries.get(r.tag);
        link.watcherQueries.delete(r.tag);
        return answer?.(r.count);
      }
      case RecordType.MetricsText: {
        const answer = link.metricsQueries.get(r.tag);
        link.metricsQueries.delete(r.tag);
        return answer?.(r.text);
      }
      case RecordType.ConnAcquire: {
        const limit = this.options.maxClientConns ?? Number.MAX_SAFE_INTEGER;
        const granted = Math.max(0, Math.min(r.count, limit - this.connections));
        this.connections += granted;
        link.connections += granted;
        return link.end.send({ type: RecordType.ConnGrant, asked: r.count, granted });
      }
      case RecordType.ConnRelease: {
        const released = Math.min(r.count, link.connections);
        this.connections -= released;
        link.connections -= released;
        return;
      }
      default:
        link.end.destroy(new Error(`a worker sent record type ${r.type}`));
    }
  }

  /** A worker's write: checked and serialised there (Member.proposeSerialized). */
  private propose(link: WorkerLink, tag: number, json: string): void {
    this.options.member.proposeSerialized(json).then(
      (result) => link.end.send(resultRecord(tag, result)),
      (err: Error) => link.end.send({ type: RecordType.Result, tag, raftIndex: 0, raftTerm: 0, event: undefined, outcome: { kind: 'failure', failure: err instanceof NoSpaceError ? 'nospace' : timeoutKindOf(err instanceof RequestTimeoutError ? err.etcdCause : undefined) } }),
    );
  }

  private read(link: WorkerLink, tag: number, flags: number, path: string): void {
    // Elapsed time on the monotonic clock: a wall-clock step must not refuse or start reads.
    const askedMs = performance.now();
    const serve = (admitted: boolean): void => this.serveRead(link, tag, flags, path, admitted, askedMs);
    if ((flags & READ_LINEARIZABLE) === 0) return serve(false);
    this.options.member.linearizableRead().then(() => serve(false), () => link.end.send(readFailure(tag)));
  }

  /** Reads from the store as the keys route does locally (big answers under BigReads). */
  private serveRead(link: WorkerLink, tag: number, flags: number, path: string, admitted: boolean, askedMs: number): void {
    const timeoutMs = this.options.requestTimeoutMs;
    // Admitted after its worker gave up (it waited behind other big reads): the worker would drop
    // the answer, and a listing nobody acknowledges would hold its slot until the stall bound.
    if (link.end.isClosed || (admitted && timeoutMs !== undefined && performance.now() - askedMs >= timeoutMs)) {
      if (admitted) this.bigReads.release();
      if (!link.end.isClosed) link.end.send(readFailure(tag));
      return;
    }
    const store = this.options.store;
    let result: StoreRead;
    try {
      result = store.read(path, { recursive: (flags & READ_RECURSIVE) !== 0, sorted: (flags & READ_SORTED) !== 0, quiet: admitted }, Date.now(), this.bigReads.firstStep(admitted));
    } catch (err) {
      if (admitted) this.bigReads.release();
      if (!(err instanceof EtcdError)) throw err;
      return link.end.send({ type: RecordType.ReadAnswer, tag, raftIndex: 0, raftTerm: 0, index: 0, body: '', listing: false, outcome: { kind: 'error', error: err } });
    }
    const raft = this.options.member.raft();
    const listing = result.listing;
    if (listing === undefined) {
      if (admitted) this.bigReads.release();
      return link.end.send({ type: RecordType.ReadAnswer, tag, raftIndex: raft.appliedIndex, raftTerm: raft.term, index: result.index, body: result.body, listing: false, outcome: undefined });
    }
    if (!admitted && !this.bigReads.tryAdmit()) {
      listing.close();
      void this.bigReads.admitted().then(() => this.serveRead(link, tag, flags, path, true, askedMs));
      return;
    }
    link.end.send({ type: RecordType.ReadAnswer, tag, raftIndex: raft.appliedIndex, raftTerm: raft.term, index: result.index, body: '', listing: true, outcome: undefined });
    const sink = new ListingSink(link.end, tag, () => link.listings.delete(tag));
    link.listings.set(tag, sink);
    this.bigReads.stream(listing).pipe(sink);
  }

  private history(link: WorkerLink, r: Extract<ChannelRecord, { type: RecordType.History }>): void {
    const store = this.options.store;
    // From 0: only the store index, where a watch without waitIndex starts (answered in order, now).
    if (r.fromIndex === 0) return link.end.send({ type: RecordType.HistoryAnswer, tag: r.tag, index: store.index, events: [], outcome: undefined });
    let events: StoreEvent[] = [];
    let truncated = false;
    try {
      const watcher = store.watch(r.path, { recursive: r.recursive, stream: r.stream, sinceIndex: r.fromIndex, bufferSize: r.capacity });
      events = watcher.take();
      truncated = watcher.overflowed;
      watcher.close();
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
      return link.end.send({ type: RecordType.HistoryAnswer, tag: r.tag, index: store.index, events: [], outcome: { kind: 'error', error: err } });
    }
    let chars = 0;
    let partial = false;
    // At least one event goes, so that the worker's next ask (from after the last) moves on.
    for (let i = 1; i < events.length; i++) {
      const e = events[i - 1]!;
      chars += e.node.key.length + (e.node.value?.length ?? 0) + (e.prevNode?.value?.length ?? 0) + 64;
      if (chars > MAX_HISTORY_ANSWER_CHARS) {
        events = events.slice(0, i);
        partial = true;
        break;
      }
    }
    // `partial`: the rest is there, asked for next from after the last event; `overload`: the
    // watcher's own capacity was passed, so the watch ends as overflowed (as in one process).
    const outcome = partial ? 'partial' : truncated ? 'overload' : undefined;
    link.end.send({ type: RecordType.HistoryAnswer, tag: r.tag, index: store.index, events, outcome: outcome === undefined ? undefined : { kind: 'failure', failure: outcome } });
  }

  private call(link: WorkerLink, tag: number, method: string, argsJson: string): void {
    const m = this.options.member;
    const args = JSON.parse(argsJson) as unknown[];
    const run = async (): Promise<unknown> => {
      switch (method) {
        case 'linearizableRead': return m.linearizableRead(typeof args[0] === 'number' ? args[0] : undefined);
        case 'alarms': return m.alarms();
        case 'members': return m.members();
        case 'selfStats': return m.selfStats();
        case 'leaderStats': return m.leaderStats() ?? null;
        case 'debugVars': return m.debugVars();
        case 'keyspaceHash': return m.keyspaceHash();
        case 'storeStats': return this.storeStats();
        case 'metrics': return this.metricsText();
        case 'addMember': return m.addMember(args[0] as string[]);
        case 'removeMember': return m.removeMember(args[0] as string);
        case 'updateMember': return m.updateMember(args[0] as string, args[1] as string[]);
        default: throw new Error(`unknown call ${method}`);
      }
    };
    run().then(
      (value) => link.end.send({ type: RecordType.CallAnswer, tag, ok: true, json: JSON.stringify(value ?? null) }),
      (err: Error) => link.end.send({
        type: RecordType.CallAnswer, tag, ok: false,
        json: JSON.stringify({ message: err.message, status: err instanceof MembersApiError ? err.status : undefined, cause: err instanceof RequestTimeoutError ? err.etcdCause : undefined }),
      }),
    );
  }
}

function resultRecord(tag: number, result: ApplyResult): ChannelRecord {
  let outcome: Outcome | undefined;
  if (result.authError instanceof AuthError) outcome = { kind: 'auth', status: result.authError.status, message: result.authError.message };
  else if (result.error !== undefined) outcome = { kind: 'error', error: result.error };
  return { type: RecordType.Result, tag, raftIndex: result.raftIndex, raftTerm: result.raftTerm, event: result.event, outcome };
}

function readFailure(tag: number): ChannelRecord {
  return { type: RecordType.ReadAnswer, tag, raftIndex: 0, raftTerm: 0, index: 0, body: '', listing: false, outcome: { kind: 'failure', failure: 'timeout' } };
}

/** The stored auth state, as the store holds it (absent before auth was ever set up). */
function authValue(store: Store): string | undefined {
  try {
    // quiet: left out of the stats, as this is no client's read.
    const read = store.read(AUTH_STATE_PATH, { quiet: true }, Date.now(), { maxWork: Number.MAX_SAFE_INTEGER, maxChars: Number.MAX_SAFE_INTEGER });
    return (JSON.parse(read.body ?? '{}') as { node?: { value?: string } }).node?.value;
  } catch (err) {
    if (err instanceof EtcdError && err.errorCode === ErrorCode.KeyNotFound) return undefined;
    throw err;
  }
}
