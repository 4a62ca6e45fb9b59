/**
 * The checks the hostile suite runs on the cluster between batches: every member alive and
 * answering /version; no member printing node's listener-leak warning; members a generated POST
 * added (never started, name "") removed again; a rolling restart of every member followed by equal
 * keyspace hashes everywhere.
 */
import { membershipChange, type DeimosCluster } from '../support/deimos-cluster.js';
import type { DeimosProcess } from '../support/deimos-process.js';
import { http } from '../support/http.js';

/** Problems with members that are down or do not answer /version properly. */
export async function aliveProblems(cluster: DeimosCluster): Promise<string[]> {
  const problems = await Promise.all(cluster.members.map(async (m): Promise<string | undefined> => {
    if (m.exitCode !== null) return `${m.name} exited with code ${m.exitCode}`;
    try {
      const res = await http('GET', `${m.clientUrl}/version`, { timeoutMs: 10_000 });
      if (res.status !== 200 || typeof res.json?.etcdserver !== 'string') return `${m.name} answered /version with ${res.status} ${res.body.slice(0, 200)}`;
    } catch (err) {
      return `${m.name} did not answer /version: ${(err as Error).message}`;
    }
    return undefined;
  }));
  return problems.filter((p): p is string => p !== undefined);
}

/** How node prints a possible EventEmitter leak (a listener added per request or chunk and never removed). */
const LEAK_WARNING = /\(node:\d+\) MaxListenersExceededWarning[^\n]*/;

/**
 * Members whose output (across restarts) shows node's listener-leak warning, each with the warning's
 * line; `skip` names members already reported.
 */
export function leakWarningProblems(cluster: DeimosCluster, skip: ReadonlySet<string>): Array<{ name: string; problem: string }> {
  return cluster.members.flatMap((m) => {
    const line = skip.has(m.name) ? null : LEAK_WARNING.exec(m.output);
    return line === null ? [] : [{ name: m.name, problem: `${m.name} printed ${line[0]}` }];
  });
}

/** Restarts members that exited (a crash already reported); throws when one cannot come back. */
export async function restartExited(cluster: DeimosCluster): Promise<DeimosProcess[]> {
  const exited = cluster.members.filter((m) => m.exitCode !== null);
  for (const m of exited) await cluster.restart(m);
  return exited;
}

/**
 * Removes every member that was added but never started (name ""), so that the cluster's quorum is
 * its real members again; the strict reconfiguration check allows removing one that never connected.
 */
export async function removeUnstarted(cluster: DeimosCluster): Promise<string[]> {
  const via = cluster.members[0]!;
  const list = await http('GET', `${via.clientUrl}/v2/members`, { timeoutMs: 10_000 });
  if (list.status !== 200 || !Array.isArray(list.json?.members)) throw new Error(`GET /v2/members: ${list.status} ${list.body.slice(0, 300)}`);
  const bogus = (list.json.members as Array<{ id: string; name: string }>).filter((m) => m.name === '');
  for (const b of bogus) {
    const res = await membershipChange(() => http('DELETE', `${via.clientUrl}/v2/members/${b.id}`, { timeoutMs: 10_000 }));
    if (res.status !== 204) throw new Error(`DELETE /v2/members/${b.id} (an added member that never started): ${res.status} ${res.body.slice(0, 300)}`);
  }
  return bogus.map((b) => b.id);
}

/**
 * Restarts every member in turn (SIGTERM, start on the same data directory, wait until it serves a
 * quorum read), then waits until every member reports the same keyspace hash. Returns problems.
 */
export async function rollingRestartProblems(cluster: DeimosCluster, log: (line: string) => void): Promise<string[]> {
  const problems: string[] = [];
  for (const m of cluster.members) {
    try {
      await cluster.restart(m);
      log(`restarted ${m.name}`);
    } catch (err) {
      problems.push(`restart of ${m.name} failed: ${(err as Error).message.slice(0, 2_000)}`);
    }
  }
  try {
    const h = await cluster.waitConverged({ timeoutMs: 60_000 });
    log(`every member reports keyspace hash ${h.hash} at store index ${h.storeIndex} (${h.nodes} nodes)`);
  } catch (err) {
    problems.push(`after the rolling restart: ${(err as Error).message}`);
  }
  problems.push(...await aliveProblems(cluster));
  return problems;
}
