/**
 * The state machine side of the raft loop: applies committed entries to the store, applies
 * membership changes to the core, and wakes the handlers that proposed the entries. An entry is
 * committed only once it is durable in the raft log (a quorum's WAL), so an acknowledged write is
 * durable and applied. The state database is written behind, in one transaction per
 * {@link FLUSH_DELAY_MS} (or per {@link FLUSH_MAX_CHANGES} changes), as etcd batches its backend
 * commits: a restart replays the raft log from the database's applied index, and log compaction
 * flushes first (see the compactor's `flushState`).
 *
 * A write-behind flush that finds the disk full (SQLITE_FULL) rolls back and keeps its changes in
 * memory: the WAL holds their entries, so nothing is lost. It reports the full disk (the member
 * raises its NOSPACE alarm, whose retries flush again) instead of ending the process.
 *
 * The commits run on the event loop. Measured here (2 cores shared with the load generator): moving
 * them to a worker thread (synchronous calls through Atomics.wait, commits posted) raised the CPU
 * per write (the batch copies cost more than the commits they moved off the loop) and the RSS by
 * 25-30 MiB (a second isolate and its heap), and write throughput did not rise.
 */
import { ConfChangeType, EntryType, ErrorCode, EtcdError, type ConfState, type Entry, type ReplicatedRequest, type Snapshot } from '@deimos/protocol';
import { confChangeFromBytes, type RaftNode } from '@deimos/raft';
import type { Store, StoreEvent } from '../store/index.js';
import type { StateMachine } from '../raft-node/raft-loop.js';
import type { WaitRegistry } from '../raft-node/wait-registry.js';
import type { Logger } from '../util/logger.js';
import { isNoSpaceError } from '../util/no-space.js';
import type { ApplyResult } from './apply-result.js';
import { applyKeysRequest } from './apply-request.js';
import { requestFromBytes } from './request-codec.js';
import { replicatedRequestProblem } from './request-check.js';
import { parseConfChangeContext, type Membership } from './membership.js';
import { AuthError } from '../auth/auth-error.js';
import { AUTH_STATE_PATH, type AuthState } from '../auth/auth-state.js';

/** Longest time applied changes wait before they are written to the state database. */
export const FLUSH_DELAY_MS = 50;
/** Unflushed changes and events that trigger a flush at once (bounds their memory). */
export const FLUSH_MAX_CHANGES = 5000;

/** Dependencies of the applier. */
export interface ApplierDeps {
  store: Store;
  node: () => RaftNode;
  waiters: WaitRegistry<ApplyResult>;
  membership: Membership;
  /** The v2 auth state (applied here, reloaded after a snapshot is restored). */
  auth?: AuthState;
  logger: Logger;
  /** Restores the whole state from a snapshot sent by the leader. */
  restore: (snapshot: Snapshot) => void;
  /** Called when a configuration change removed a member (this one included). */
  onMemberRemoved?: (id: string) => void;
  /** Called after any configuration change was applied. */
  onConfChange?: () => void;
  /** The configuration the log starts from (storage's initial state). */
  initialConfState: ConfState;
  /** A write-behind flush found the disk full; its changes wait in memory for the next flush. */
  onNoSpace?: (err: Error) => void;
  /** True while write-behind flushes are left to the NOSPACE alarm's retries (the disk is full). */
  flushPaused?: () => boolean;
}

/** Applies committed entries; see the module comment. */
export class Applier implements StateMachine {
  /** The configuration after the last applied entry (what a snapshot must record). */
  confState: ConfState;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ApplierDeps) {
    this.confState = deps.initialConfState;
  }

  /**
   * Writes everything applied so far to the state database now (compaction, snapshots, shutdown,
   * hashes). Throws when it cannot (SQLITE_FULL on a full disk); the changes then stay pending.
   */
  flush(): void {
    this.flushToBackend();
    this.deps.store.waitDurable();
  }

  private flushToBackend(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.deps.store.flush();
  }

  /**
   * The write-behind flush: a full disk is reported, not thrown (the alarm retries). With a
   * writer thread the batch is only handed over here; its failure comes through the backend's own
   * report (start-member.ts).
   */
  private flushBehind(): void {
    try {
      this.flushToBackend();
    } catch (err) {
      if (!isNoSpaceError(err)) throw err;
      this.deps.onNoSpace?.(err as Error);
    }
  }

  private flushSoon(): void {
    if (this.deps.flushPaused?.() === true) return;
    if (this.deps.store.unflushedCount >= FLUSH_MAX_CHANGES) return this.flushBehind();
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => this.flushBehind(), FLUSH_DELAY_MS);
  }

  applyEntries(entries: Entry[]): void {
    const { store, waiters } = this.deps;
    // Entries at or below this were applied already (before a restart: flushed to the database).
    const durableIndex = store.applied.index;
    const results: Array<[string, ApplyResult]> = [];
    for (const e of entries) {
      if (e.type === EntryType.ConfChange) {
        this.applyConfChange(e, durableIndex, results);
        continue;
      }
      if (e.index <= durableIndex || e.data.length === 0) continue;
      const result = this.applyNormal(e);
      if (result) results.push(result);
    }
    const last = entries[entries.length - 1];
    if (last && last.index > durableIndex) {
      store.markApplied({ index: last.index, term: last.term });
      this.flushSoon();
    }
    for (const [id, result] of results) waiters.trigger(id, result);
  }

  restoreSnapshot(snapshot: Snapshot): void {
    this.flush();
    this.deps.restore(snapshot);
    this.deps.auth?.load(this.deps.store);
    this.confState = snapshot.metadata.confState;
  }

  private applyNormal(e: Entry): [string, ApplyResult] | undefined {
    const { logger } = this.deps;
    let req;
    try {
      req = requestFromBytes(e.data);
    } catch (err) {
      logger.error('skipping an entry that is not a request', { index: e.index, error: (err as Error).message });
      return undefined;
    }
    const problem = replicatedRequestProblem(req);
    if (problem !== undefined) {
      // Every member reads the same bytes and finds the same problem: the request fails everywhere
      // and changes nothing.
      logger.error('refusing a committed request that cannot be applied', { index: e.index, op: String(req.op), problem });
      return this.answer(req.id, e, { error: new EtcdError(ErrorCode.RaftInternal, `invalid request: ${problem}`, this.deps.store.index) });
    }
    try {
      return this.applyChecked(req, e);
    } catch (err) {
      // Not an etcd error: a bug met by this entry. Throwing would stop the apply loop on every
      // member, and again at every restart, on the same committed entry; the request fails instead.
      logger.error('a committed request failed to apply', { index: e.index, op: req.op, error: (err as Error).stack ?? String(err) });
      return this.answer(req.id, e, { error: new EtcdError(ErrorCode.RaftInternal, 'the request could not be applied', this.deps.store.index) });
    }
  }

  private applyChecked(req: ReplicatedRequest, e: Entry): [string, ApplyResult] | undefined {
    const { store, membership } = this.deps;
    if (req.op === 'sync') {
      store.deleteExpiredKeys(req.timeMs);
      return undefined;
    }
    if (req.op === 'publish') {
      membership.publish(req.memberId, req.name, req.clientUrls);
      // The member that proposed it serves clients from then on (start-member.ts).
      return this.answer(req.id, e, {});
    }
    if (req.op === 'auth') {
      const auth = this.deps.auth;
      if (auth === undefined) throw new Error('no auth state to apply to');
      try {
        auth.apply(req);
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        return this.answer(req.id, e, { authError: err });
      }
      store.set(AUTH_STATE_PATH, { value: auth.serialize() }, req.timeMs);
      return this.answer(req.id, e, {});
    }
    try {
      return this.answer(req.id, e, { event: applyKeysRequest(store, req) });
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
      return this.answer(req.id, e, { error: err });
    }
  }

  private answer(id: string, e: Entry, outcome: { event?: StoreEvent; error?: EtcdError; authError?: AuthError }): [string, ApplyResult] | undefined {
    if (!this.deps.waiters.has(id)) return undefined;
    return [id, { event: outcome.event, error: outcome.error, authError: outcome.authError, raftIndex: e.index, raftTerm: e.term }];
  }

  private applyConfChange(e: Entry, durableIndex: number, results: Array<[string, ApplyResult]>): void {
    let cc;
    try {
      cc = confChangeFromBytes(e.data);
    } catch (err) {
      // Undecodable everywhere alike: the entry changes nothing on any member.
      this.deps.logger.error('skipping a configuration change that cannot be decoded', { index: e.index, error: (err as Error).message });
      return;
    }
    this.confState = this.deps.node().applyConfChange(cc);
    // The membership records live in the store: already there if the entry was applied before.
    if (e.index > durableIndex) this.deps.membership.applyConfChange(cc);
    const requestId = parseConfChangeContext(cc.context).requestId;
    if (requestId && this.deps.waiters.has(requestId)) results.push([requestId, { raftIndex: e.index, raftTerm: e.term }]);
    if (cc.type === ConfChangeType.RemoveNode) this.deps.onMemberRemoved?.(cc.nodeId);
    this.deps.onConfChange?.();
  }
}
