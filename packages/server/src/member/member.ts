/**
 * A running member: the store, the WAL, the consensus core and its loop, the membership, and the
 * operations the HTTP routes use (propose, linearizable read, stats).
 */
import { readOpenFilesLimit } from '@deimos/net';
import { debugVarsText } from './debug-vars.js';
import { randomBytes } from 'node:crypto';
import type { AuthState } from '../auth/auth-state.js';
import { AuthGuard } from '../auth/auth-guard.js';
import { ConfChangeType, ErrorCode, EtcdError, encodeUtf8, type MemberJSON, type ReplicatedRequest } from '@deimos/protocol';
import { ProposalDroppedError, StateType, type RaftNode } from '@deimos/raft';
import type { ServerConfig } from '../config/server-config.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { RaftLoop } from '../raft-node/raft-loop.js';
import { RequestTimeoutError, type WaitRegistry } from '../raft-node/wait-registry.js';
import { SERVER_STOPPED, timeoutCause } from './timeout-cause.js';
import type { DistributiveOmit, KeyspaceHash, MemberView, RaftFacts } from '../routes/member-view.js';
import type { SqliteBackend, Store } from '../store/index.js';
import type { Logger } from '../util/logger.js';
import type { PeerTransport } from '../transport/index.js';
import type { ApplyResult } from './apply-result.js';
import { requestToBytes } from './request-codec.js';
import { replicatedRequestProblem } from './request-check.js';
import type { Membership, ConfChangeContext } from './membership.js';
import { MembersApiError } from '../routes/members-routes.js';
import { newMemberId } from '../cluster/member-id.js';
import { checkAddMember, checkRemoveMember, type ReconfigRefusal, type ReconfigView } from './reconfig-check.js';
import { NoSpaceError } from '../util/no-space.js';
import type { DiskSpaceAlarm } from './disk-space-alarm.js';
import { AppendRate } from './append-rate.js';

/** How long to wait before proposing again when the core dropped a proposal (no leader yet). */
const PROPOSAL_RETRY_MS = 50;

/** Raised when a proposal cannot even be made (no leader known, overload). */
export class ProposalRejectedError extends Error {
  readonly code = 'ERR_PROPOSAL_REJECTED';
  constructor(reason: string) {
    super(reason);
    this.name = 'ProposalRejectedError';
  }
}

/** Parts a member is made of (built by start-member.ts). */
export interface MemberParts {
  config: ServerConfig;
  logger: Logger;
  metrics: MetricsRegistry;
  store: Store;
  loop: RaftLoop;
  waiters: WaitRegistry<ApplyResult>;
  membership: Membership;
  auth: AuthState;
  transport: PeerTransport;
  backend: SqliteBackend;
  /** Writes every applied change to the state database (which is written behind). */
  flushState: () => void;
  /** Raised while the disk is full: proposals are refused then. */
  spaceAlarm: DiskSpaceAlarm;
}

/** A running member, as seen by the routes. */
export class Member implements MemberView {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly store: Store;
  /** The routes' view of the keyspace: the store itself. */
  readonly keys: Store;
  readonly startTime = new Date();
  readonly auth: AuthState;
  readonly authGuard: AuthGuard;
  private readonly loop: RaftLoop;
  private readonly waiters: WaitRegistry<ApplyResult>;
  private failedCount = 0;
  /** Set once a stop began: nothing new is proposed or read through raft (see {@link beginStop}). */
  private stopping = false;
  private readonly membership: Membership;
  private readonly transport: PeerTransport;
  private readonly backend: SqliteBackend;
  private readonly flushState: () => void;
  private readonly spaceAlarm: DiskSpaceAlarm;
  /** Raft appends sent and received, and their recent rates (what etcd's stats/self shows). */
  readonly appendsSent = new AppendRate();
  readonly appendsReceived = new AppendRate();
  private readonly idPrefix = randomBytes(6).toString('hex');
  private seq = 0;
  private leaderSince = new Date();
  /** When this member last saw a new leader elected (transport clock). */
  private leaderElectedMs = -Infinity;

  constructor(parts: MemberParts) {
    this.config = parts.config;
    this.logger = parts.logger;
    this.metrics = parts.metrics;
    this.store = parts.store;
    this.keys = parts.store;
    this.auth = parts.auth;
    this.authGuard = new AuthGuard(parts.auth);
    this.loop = parts.loop;
    this.waiters = parts.waiters;
    this.membership = parts.membership;
    this.transport = parts.transport;
    this.backend = parts.backend;
    this.flushState = parts.flushState;
    this.spaceAlarm = parts.spaceAlarm;
  }

  get clusterId(): string {
    return this.config.clusterId;
  }

  get memberId(): string {
    return this.config.memberId;
  }

  /** Requests proposed and not yet answered. */
  /** Proposals that failed after they were handed to raft (timed out, dropped, lost with a leader). */
  get failedProposals(): number {
    return this.failedCount;
  }

  get pendingProposals(): number {
    return this.waiters.size;
  }

  /** Called by the loop when leadership changes. */
  noteLeaderChange(): void {
    this.leaderSince = new Date();
  }

  /** A new leader was elected, as this member sees it (for the cause of a timed-out write). */
  noteLeaderElected(): void {
    this.leaderElectedMs = this.transport.now();
  }

  /** etcd's cause of a write that started at `startedMs` (transport clock) and timed out. */
  private timeoutCause(startedMs: number): string {
    return timeoutCause({
      startedMs,
      leaderElectedMs: this.leaderElectedMs,
      electionSpanMs: 2 * this.config.electionTicks * this.config.tickMs,
      leader: this.loop.softState.lead,
      selfId: this.config.memberId,
      peers: this.membership.list().map((m) => m.id).filter((id) => id !== this.config.memberId),
      activeSince: (id) => this.transport.activeSince(id),
    });
  }

  raft(): RaftFacts {
    return {
      term: this.loop.currentTerm,
      appliedIndex: this.loop.appliedIndex,
      commitIndex: this.loop.commitIndex,
      leaderId: this.loop.softState.lead,
      isLeader: this.loop.isLeader,
    };
  }

  members(): MemberJSON[] {
    return this.membership.list();
  }

  alarms(): string[] {
    return this.spaceAlarm.active ? ['NOSPACE'] : [];
  }

  /**
   * Proposes without waiting (SYNC, publish). Returns false when the core dropped it, or when the
   * disk is full (a TTL sweep then waits until space returns: its entry would need the room).
   */
  proposeAsync(request: DistributiveOmit<ReplicatedRequest, 'id'>): boolean {
    if (this.spaceAlarm.active) return false;
    const full = request as ReplicatedRequest;
    full.id = this.nextId();
    if (replicatedRequestProblem(full) !== undefined) return false;
    try {
      this.loop.withNode((node: RaftNode) => node.propose(requestToBytes(full)));
      return true;
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
  }

  propose(request: DistributiveOmit<ReplicatedRequest, 'id'>): Promise<ApplyResult> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    const id = this.nextId();
    // The caller builds a fresh request object for each call, so it is completed in place.
    const full = request as ReplicatedRequest;
    full.id = id;
    // Never put into the log what no member could apply (see request-check.ts).
    const problem = replicatedRequestProblem(full);
    if (problem !== undefined) {
      return Promise.resolve({ error: new EtcdError(ErrorCode.RaftInternal, `invalid request: ${problem}`, this.store.index), raftIndex: 0, raftTerm: 0 });
    }
    return this.proposeData(id, requestToBytes(full));
  }

  /**
   * Publishes this member's name and client URLs through the log, answered once applied here. Not
   * refused under the NOSPACE alarm, which refuses clients' writes: the member serves clients only
   * once its start is published (start-member.ts), and the entry is small (the WAL keeps room ahead).
   */
  publishSelf(name: string, clientUrls: string[]): Promise<ApplyResult> {
    const request: ReplicatedRequest = { op: 'publish', id: this.nextId(), memberId: this.config.memberId, name, clientUrls };
    const problem = replicatedRequestProblem(request);
    if (problem !== undefined) return Promise.reject(new Error(`cannot publish this member: ${problem}`));
    return this.proposeData(request.id, requestToBytes(request));
  }

  /**
   * {@link propose} for a request a client worker has checked (`replicatedRequestProblem`) and
   * written as JSON without its `id`: the id is added to the text, so the consensus thread neither
   * parses nor re-serialises it (measured: 0.4 µs a request against 3.1 µs for parse, check,
   * stringify and encode, of the ~80 µs a write costs this thread on 4-CPU members). The workers
   * run this build's own check, and an entry that still could not be applied is refused by every
   * member's applier alike, never applied half.
   */
  proposeSerialized(json: string): Promise<ApplyResult> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    if (json.length < 3 || json.charCodeAt(0) !== 0x7b || json.charCodeAt(json.length - 1) !== 0x7d) {
      return Promise.resolve({ error: new EtcdError(ErrorCode.RaftInternal, 'invalid request: not a JSON object', this.store.index), raftIndex: 0, raftTerm: 0 });
    }
    const id = this.nextId();
    // Last, so that it is the id JSON.parse keeps even if the text named one (ids are [0-9a-z-]).
    return this.proposeData(id, Buffer.from(`${json.slice(0, -1)},"id":"${id}"}`, 'utf8'));
  }

  /**
   * Why a request is refused before it is proposed (so the client knows for sure that it did not
   * happen), if it is: too many waiting, or the disk full.
   */
  private refusal(): Promise<never> | undefined {
    if (this.stopping) return Promise.reject(new RequestTimeoutError(SERVER_STOPPED));
    if (this.waiters.full) return Promise.reject(new ProposalRejectedError('too many pending requests'));
    if (this.spaceAlarm.active) return Promise.reject(new NoSpaceError());
    return undefined;
  }

  private proposeData(id: string, data: Uint8Array): Promise<ApplyResult> {
    const startedMs = this.transport.now();
    // etcd counts a proposal that timed out or was refused as failed (its HighNumberOfFailedProposals
    // alert): counted where that happens, not with a handler on every write's promise.
    const done = this.waiters.register(id, this.config.requestTimeoutMs, () => {
      this.failedCount++;
      return new RequestTimeoutError(this.timeoutCause(startedMs));
    });
    // A proposal is dropped while no leader is known or a transfer is under way: try again until
    // one takes it or the request's deadline (the waiter's timeout) passes.
    const attempt = (): void => {
      if (!this.waiters.has(id)) return;
      try {
        this.loop.withNode((node: RaftNode) => node.propose(data));
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) {
          this.failedCount++;
          return this.waiters.fail(id, err as Error);
        }
        setTimeout(attempt, PROPOSAL_RETRY_MS);
      }
    };
    attempt();
    return done;
  }

  /**
   * Waits until every membership change committed before this request is applied here (a read
   * round): a member that answers a change request checks it against the membership it has
   * applied, which on a follower could lag a change another member just acknowledged (a second
   * unstarted member admitted past the strict check, a taken peer URL not seen).
   */
  private async membershipCurrent(): Promise<void> {
    try {
      await this.linearizableRead();
    } catch (err) {
      throw new MembersApiError(500, `membership change failed: ${(err as Error).message}`);
    }
  }

  async addMember(peerURLs: string[]): Promise<MemberJSON> {
    // Checked at once too, as etcd checks (a cluster with members down refuses without waiting for
    // a read round that cannot end without a leader), and again on the current membership.
    this.checkReconfig('add', (view) => checkAddMember(view));
    await this.membershipCurrent();
    // etcd checks before proposing, and finds a taken peer URL only when the change is applied.
    this.checkReconfig('add', (view) => checkAddMember(view));
    const taken = new Set(this.membership.list().flatMap((m) => m.peerURLs));
    if (peerURLs.some((u) => taken.has(u))) throw new MembersApiError(409, 'membership: peerURL exists');
    const id = newMemberId(peerURLs, Date.now(), ++this.seq);
    await this.proposeConfChange(ConfChangeType.AddNode, id, { peerURLs });
    return { id, name: '', peerURLs, clientURLs: [] };
  }

  async removeMember(id: string): Promise<void> {
    await this.membershipCurrent();
    if (this.membership.isRemoved(id)) throw new MembersApiError(410, `Member permanently removed: ${id}`);
    if (!/^[0-9a-f]{1,16}$/.test(id) || !this.membership.get(id)) throw new MembersApiError(404, `No such member: ${id}`);
    this.checkReconfig('remove', (view) => checkRemoveMember(view, id));
    await this.proposeConfChange(ConfChangeType.RemoveNode, id, {});
  }

  async updateMember(id: string, peerURLs: string[]): Promise<void> {
    await this.membershipCurrent();
    // etcd answers an update of a removed member with its bare 500 (only DELETE names the removal).
    if (this.membership.isRemoved(id)) throw new MembersApiError(500, 'Internal Server Error');
    if (!this.membership.get(id)) throw new MembersApiError(404, `No such member: ${id}`);
    const taken = new Set(this.membership.list().filter((m) => m.id !== id).flatMap((m) => m.peerURLs));
    if (peerURLs.some((u) => taken.has(u))) throw new MembersApiError(409, 'membership: peerURL exists');
    await this.proposeConfChange(ConfChangeType.UpdateNode, id, { peerURLs });
  }

  /** Peers reachable both ways now (the `deimos_peers_active` gauge). */
  activePeerCount(): number {
    return this.transport.peerIds().filter((id) => this.transport.activeSince(id) !== undefined).length;
  }

  /**
   * Runs the strict reconfiguration check (unless --strict-reconfig-check=false). A refusal is
   * answered as etcd 3.4 answers it, 500 "Internal Server Error"; the reason goes to the log.
   */
  private checkReconfig(change: 'add' | 'remove', check: (view: ReconfigView) => ReconfigRefusal | undefined): void {
    if (!this.config.strictReconfigCheck) return;
    const view: ReconfigView = {
      selfId: this.config.memberId,
      members: this.membership.list().map((m) => ({ id: m.id, started: m.name !== '' })),
      activeSince: (id) => this.transport.activeSince(id),
      nowMs: this.transport.now(),
    };
    const refusal = check(view);
    if (refusal === undefined) return;
    this.logger.warn(`rejecting member ${change} request; ${refusal.code === 'unhealthy' ? 'cluster is unhealthy' : 'not enough started members'}`, {
      reason: refusal.reason, override: '--strict-reconfig-check=false',
    });
    throw new MembersApiError(500, 'Internal Server Error');
  }

  /** Proposes a configuration change and waits until it is applied here. */
  private async proposeConfChange(type: ConfChangeType, nodeId: string, ctx: ConfChangeContext): Promise<void> {
    if (this.spaceAlarm.active) throw new MembersApiError(500, `membership change failed: ${new NoSpaceError().message}`);
    const requestId = this.nextId();
    const context = encodeUtf8(JSON.stringify({ ...ctx, requestId }));
    const done = this.waiters.register(requestId, this.config.requestTimeoutMs);
    try {
      this.loop.withNode((node: RaftNode) => node.proposeConfChange({ type, nodeId, context }));
    } catch (err) {
      this.waiters.fail(requestId, err as Error);
    }
    try {
      await done;
    } catch (err) {
      throw new MembersApiError(500, `membership change failed: ${(err as Error).message}`);
    }
  }

  /**
   * A stop began: new writes and quorum reads are refused at once (etcd's "server stopped"), so
   * that those already waiting can be answered before the member goes, without new ones arriving
   * behind them.
   */
  beginStop(): void {
    this.stopping = true;
  }

  /** Whether a stop began (see {@link beginStop}). */
  get isStopping(): boolean {
    return this.stopping;
  }

  linearizableRead(timeoutMs?: number): Promise<void> {
    if (this.stopping) return Promise.reject(new RequestTimeoutError(SERVER_STOPPED));
    const limit = this.config.requestTimeoutMs;
    const ms = timeoutMs !== undefined && Number.isFinite(timeoutMs) && timeoutMs > 0 ? Math.min(timeoutMs, limit) : limit;
    return this.loop.linearizableRead(ms).then(() => undefined);
  }

  keyspaceHash(): KeyspaceHash {
    this.flushState(); // the hash is taken over the database
    return { ...this.backend.hashNodes(), storeIndex: this.store.index, appliedIndex: this.store.applied.index };
  }

  renderMetrics(): string {
    return this.metrics.render();
  }

  selfStats(): Record<string, unknown> {
    const facts = this.raft();
    const state = facts.isLeader ? StateType.Leader : StateType.Follower;
    return {
      name: this.config.name,
      id: this.config.memberId,
      state,
      startTime: this.startTime.toISOString(),
      leaderInfo: {
        leader: facts.leaderId === '0' ? '' : facts.leaderId,
        uptime: formatGoDuration(Date.now() - this.leaderSince.getTime()),
        startTime: this.leaderSince.toISOString(),
      },
      recvAppendRequestCnt: this.appendsReceived.count,
      ...rateFields('recv', this.appendsReceived.rate()),
      sendAppendRequestCnt: this.appendsSent.count,
      ...rateFields('send', this.appendsSent.rate()),
    };
  }

  /** etcd's `/debug/vars` page (see debug-vars.ts). */
  debugVars(): string {
    return debugVarsText(this.loop.status(), process.argv.slice(2), readOpenFilesLimit());
  }

  leaderStats(): Record<string, unknown> | undefined {
    if (!this.loop.isLeader) return undefined;
    const followers: Record<string, unknown> = {};
    for (const p of this.transport.stats()) followers[p.id] = { latency: p.latency, counts: p.counts };
    return { leader: this.config.memberId, followers };
  }

  private nextId(): string {
    return `${this.idPrefix}-${(++this.seq).toString(36)}`;
  }
}

/** Formats a duration like Go's time.Duration.String() (e.g. 14m22.69s). */
export function formatGoDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = ((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** etcd's `<dir>PkgRate` and `<dir>BandwidthRate`, left out when there is no rate (Go's omitempty). */
function rateFields(dir: 'recv' | 'send', rate: { packages: number; bytes: number } | undefined): Record<string, number> {
  return rate === undefined ? {} : { [`${dir}PkgRate`]: rate.packages, [`${dir}BandwidthRate`]: rate.bytes };
}
