/** Gauges describing a member, read at scrape time. */
import { statSync } from 'node:fs';
import type { MetricsRegistry } from '../metrics/registry.js';
import { registerHeapMetrics, registerProcessMemoryMetrics } from '../metrics/process-memory.js';
import { registerProcessMetrics } from '../metrics/process-metrics.js';
import type { Store } from '../store/index.js';
import type { Member } from './member.js';

/** The size of the state database's files (the database and its write-ahead log), 0 for one missing. */
function databaseBytes(path: string): number {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      total += statSync(file).size;
    } catch {
      // not there (yet): counts nothing
    }
  }
  return total;
}

/** Registers the raft and store gauges of a member; `dbPath` is its state database. */
export function registerMemberMetrics(metrics: MetricsRegistry, member: Member, store: Store, applied: () => number, dbPath: string): void {
  const committed = (): number => member.raft().commitIndex ?? 0;
  const isLeader = (): number => (member.raft().isLeader ? 1 : 0);
  const hasLeader = (): number => (member.raft().leaderId !== '0' ? 1 : 0);
  metrics.gauge('deimos_raft_term', 'Current raft term.', () => member.raft().term);
  metrics.gauge('deimos_raft_applied_index', 'Index of the last applied raft entry.', applied);
  metrics.gauge('deimos_raft_commit_index', 'Index of the last entry known committed.', committed);
  metrics.gauge('deimos_raft_is_leader', '1 when this member is the leader.', isLeader);
  metrics.gauge('deimos_raft_has_leader', '1 when a leader is known.', hasLeader);
  metrics.gauge('deimos_peers_active', 'Peers reachable both ways now (what the strict reconfiguration check counts).', () => member.activePeerCount());
  metrics.gauge('deimos_store_index', 'The v2 store index (X-Etcd-Index).', () => store.index);
  metrics.gauge('deimos_store_watchers', 'Live watchers.', () => store.watcherCount);
  // etcd's names for the same facts, so that dashboards and alerts made for etcd work unchanged.
  metrics.gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', hasLeader);
  metrics.gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', isLeader);
  metrics.gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', committed);
  metrics.gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', applied);
  metrics.gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => member.pendingProposals);
  metrics.counterFrom('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.', () => member.failedProposals);
  // etcd's backend is its bolt file; here the state database is (etcd's quota alerts read this).
  metrics.gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => databaseBytes(dbPath));
  registerProcessMemoryMetrics(metrics);
  registerHeapMetrics(metrics);
  registerProcessMetrics(metrics, true);
}
