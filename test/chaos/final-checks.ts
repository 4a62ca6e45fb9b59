/**
 * The end of a chaos run: heal every fault, wait until the members converge, and collect what the
 * checkers compare against (the final values read linearizably, the committed watch events).
 */
import { http } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';
import type { WatchEvent } from './checker/index.js';
import type { ChaosCluster, KeyspaceHash } from './chaos-cluster.js';
import { WatcherClient } from './watcher-client.js';
import type { SimRng } from '../sim/rng.js';

/** Removes every fault: links healed, paused members resumed, dead members restarted, removed ones re-added. */
export async function healAll(cluster: ChaosCluster, log: (line: string) => void): Promise<void> {
  cluster.links.heal();
  for (const m of cluster.members) m.resume();
  for (const name of [...cluster.removed]) {
    const via = cluster.names.find((n) => !cluster.removed.has(n) && cluster.member(n).running)!;
    log(`heal: re-adding removed member ${name} via ${via}`);
    await cluster.readdMember(name, via);
  }
  for (const m of cluster.members) {
    if (!m.running) {
      log(`heal: restarting ${m.name}`);
      cluster.restart(m.name);
    }
  }
  await cluster.waitHealthy(60_000);
}

/** Waits until every member reports the same keyspace hash and store index; returns the hashes. */
export async function waitConvergence(cluster: ChaosCluster, timeoutMs: number): Promise<Map<string, KeyspaceHash>> {
  let hashes = new Map<string, KeyspaceHash>();
  try {
    await waitFor(async () => {
      hashes = new Map(await Promise.all(cluster.names.map(async (n) => [n, await cluster.hash(n)] as const)));
      const values = [...hashes.values()];
      return values.every((h) => h.hash === values[0]!.hash && h.storeIndex === values[0]!.storeIndex);
    }, { timeoutMs, intervalMs: 250, what: 'all members to have the same keyspace hash' });
  } catch {
    // The caller reports the divergent hashes.
  }
  return hashes;
}

/** Reads every key with `quorum=true`; `null` for a missing key. */
export async function readFinalState(baseUrl: string, keys: readonly string[]): Promise<Map<string, string | null>> {
  const state = new Map<string, string | null>();
  for (const key of keys) {
    const res = await http('GET', `${baseUrl}/v2/keys${key}?quorum=true`, { timeoutMs: 10_000 });
    if (res.status === 200) state.set(key, (res.json as { node: { value?: string } }).node.value ?? null);
    else if (res.status === 404) state.set(key, null);
    else throw new Error(`final read of ${key}: ${res.status} ${res.body}`);
  }
  return state;
}

/** Writes a sentinel key in the watched directory and returns its index: every watcher must reach it. */
export async function writeSentinel(baseUrls: readonly string[], dir: string, log: (line: string) => void): Promise<number> {
  const failures: string[] = [];
  // Right after healing a leader may still be settling; a cluster that cannot take a write for a
  // whole minute once every fault is gone has a liveness problem, reported by the throw.
  const stopAt = Date.now() + 60_000;
  for (let attempt = 0; Date.now() < stopAt; attempt++) {
    const base = baseUrls[attempt % baseUrls.length]!;
    try {
      const res = await http('PUT', `${base}/v2/keys${dir}/sentinel`, { form: { value: 'end' }, timeoutMs: 10_000 });
      if (res.status === 200 || res.status === 201) {
        if (failures.length > 0) log(`sentinel written after ${failures.length} failed attempts: ${failures.slice(0, 3).join('; ')}`);
        return (res.json as { node: { modifiedIndex: number } }).node.modifiedIndex;
      }
      failures.push(`${base}: ${res.status} ${res.body.slice(0, 120)}`);
    } catch (err) {
      failures.push(`${base}: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no write succeeded for 60 s after healing: ${failures.slice(-4).join('; ')}`);
}

/** Waits until a watcher has delivered `index` (or the deadline passes). */
export async function drainWatcher(watcher: WatcherClient, index: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(() => watcher.lastIndex >= index, { timeoutMs, intervalMs: 100, what: 'the watcher to catch up' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The committed events under `dir` from `fromIndex` through `throughIndex`, by a fresh watch on one
 * member: long polls, one event per request, the simplest path through the server's watch code.
 */
export async function committedEvents(baseUrl: string, dir: string, fromIndex: number, throughIndex: number, rng: SimRng): Promise<WatchEvent[]> {
  const fresh = new WatcherClient({ id: 'reference', dir, fromIndex, mode: 'long-poll', targets: () => [baseUrl], rng, idleTimeoutMs: 5_000 });
  const running = fresh.run();
  const caughtUp = await drainWatcher(fresh, throughIndex, 30_000);
  fresh.stop();
  await running;
  if (!caughtUp) throw new Error(`the reference watch on ${baseUrl} did not reach index ${throughIndex} (at ${fresh.lastIndex})`);
  if (fresh.segments.length > 1) throw new Error(`the reference watch lost history: ${fresh.notes.join('; ')}`);
  return fresh.segments[0]!.events.filter((e) => e.modifiedIndex <= throughIndex);
}
