/**
 * What the HTTP routes may see and do of a running member. Routes depend on this interface only,
 * so they can be reasoned about (and tested) without the raft loop, WAL or database behind them.
 */
import type { AuthState } from '../auth/auth-state.js';
import type { AuthGuard } from '../auth/auth-guard.js';
import type { MemberJSON, ReplicatedRequest } from '@deimos/protocol';
import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../util/logger.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { KeysAccess } from './keys-access.js';
import type { ApplyResult } from '../member/apply-result.js';

/** Raft-level facts for headers and stats. */
export interface RaftFacts {
  term: number;
  /** Index of the last applied raft entry. */
  appliedIndex: number;
  /** Index of the last entry known committed (what the hard state last recorded). */
  commitIndex?: number;
  leaderId: string;
  isLeader: boolean;
}

/** A hash of the keyspace and the indexes it was taken at (`GET /deimos/hash`). */
export interface KeyspaceHash {
  hash: string;
  nodes: number;
  storeIndex: number;
  appliedIndex: number;
}

/** A running member as the routes see it. */
export interface MemberView {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** The keyspace: reads, watches, its index and stats (in this process or in the primary). */
  readonly keys: KeysAccess;
  readonly clusterId: string;
  readonly memberId: string;
  readonly startTime: Date;
  /** The replicated v2 auth state (`enabled` is false unless a root user turned auth on). */
  readonly auth: AuthState;
  /** Checks the credentials of requests while auth is enabled. */
  readonly authGuard: AuthGuard;
  raft(): RaftFacts;
  /** Current members, sorted by numeric ID (a client worker asks the primary, so it sees every change answered before). */
  members(): MemberJSON[] | Promise<MemberJSON[]>;
  /** Proposes a write and resolves once it was applied here (or rejects on timeout). */
  propose(request: DistributiveOmit<ReplicatedRequest, 'id'>): Promise<ApplyResult>;
  /**
   * Resolves once a linearizable read may be served locally; `timeoutMs` shortens the request
   * timeout (never lengthens it).
   */
  linearizableRead(timeoutMs?: number): Promise<void>;
  /** Adds a member with these peer URLs (raft AddNode); resolves with the new member. */
  addMember(peerURLs: string[]): Promise<MemberJSON>;
  /** Removes a member (raft RemoveNode). */
  removeMember(id: string): Promise<void>;
  /** Changes a member's peer URLs. */
  updateMember(id: string, peerURLs: string[]): Promise<void>;
  /** A hash of the keyspace with the indexes it was taken at (members that agree hash alike). */
  keyspaceHash(): KeyspaceHash | Promise<KeyspaceHash>;
  /**
   * The alarms raised on this member, as etcd names them (`NOSPACE` while its disk is full); a
   * client worker asks the primary, so an alarm that refused a write through any worker is seen.
   */
  alarms(): string[] | Promise<string[]>;
  /** The Prometheus text of `/metrics` (a member with client workers adds theirs). */
  renderMetrics(): string | Promise<string>;
  /** Stats counters of raft traffic for /v2/stats/self and /v2/stats/leader. */
  selfStats(): Record<string, unknown> | Promise<Record<string, unknown>>;
  leaderStats(): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
  /** The body of etcd's `/debug/vars` (the primary's, through a client worker). */
  debugVars(): string | Promise<string>;
}

/** `Omit` that distributes over a union. */
export type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
