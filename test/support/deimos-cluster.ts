/**
 * A multi-process `deimos` cluster for end-to-end tests: N members on free loopback ports with one
 * bootstrap config, leader discovery through `/v2/stats/self`, faults by PID (kill -9, SIGTERM,
 * SIGSTOP/SIGCONT), restarts on the same data directory, runtime membership changes through the
 * members API, and convergence checks through `GET /deimos/hash`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeimosProcess } from './deimos-process.js';
import { http, type TestTlsCredentials } from './http.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait-for.js';

/**
 * Flags every cluster test member gets unless the test overrides them: a 2 s election timeout
 * (20 ticks of 100 ms) instead of 1 s, because the test machine has two shared cores and a stalled
 * event loop must not look like a dead leader.
 */
export const CLUSTER_DEFAULT_ARGS: readonly string[] = ['--election-timeout', '20', '--heartbeat-timeout', '2'];

/** Options of a test cluster. */
export interface DeimosClusterOptions {
  /** Number of members (default 3). */
  size?: number;
  /** Member names (default node1..nodeN). */
  names?: string[];
  /** Extra flags for every member, after the standard ones (replaces CLUSTER_DEFAULT_ARGS when given). */
  args?: string[];
  /** Host written into the bootstrap config's peer URLs (default 127.0.0.1; the README uses localhost). */
  peerHost?: string;
  /** How long to wait for every member to answer and for one leader (default 30 s). */
  readyTimeoutMs?: number;
  /** Runs as soon as a member first answers (before the others may). */
  onMemberReady?: (member: DeimosProcess) => Promise<void>;
  /** Client and peer URL schemes (default http); https needs the TLS flags in `args`. */
  clientScheme?: 'http' | 'https';
  peerScheme?: 'http' | 'https';
  /** What the test harness presents to https client ports. */
  clientTls?: TestTlsCredentials;
}

/** `/v2/stats/self` as the tests read it. */
export interface SelfStats {
  name: string;
  id: string;
  state: string;
  leaderInfo: { leader: string };
}

/** `GET /deimos/hash`. */
export interface KeyspaceHash {
  hash: string;
  nodes: number;
  storeIndex: number;
  appliedIndex: number;
}

/** A cluster of real `deimos` processes. */
export class DeimosCluster {
  /** Every member this cluster started, removed ones included, in start order. */
  readonly members: DeimosProcess[] = [];
  private readonly paused = new Set<DeimosProcess>();
  private readonly removed = new Set<DeimosProcess>();
  private readonly ids = new Map<DeimosProcess, string>();
  private readonly loads: WriteLoad[] = [];

  private constructor(readonly args: readonly string[], readonly peerHost: string, private readonly schemes: Pick<DeimosClusterOptions, 'clientScheme' | 'peerScheme' | 'clientTls'> = {}) {}

  /** Starts all members at once (none can answer before a quorum runs), then waits for a leader. */
  static async start(opts: DeimosClusterOptions = {}): Promise<DeimosCluster> {
    const size = opts.size ?? opts.names?.length ?? 3;
    const names = opts.names ?? Array.from({ length: size }, (_, i) => `node${i + 1}`);
    const schemes = { clientScheme: opts.clientScheme, peerScheme: opts.peerScheme, clientTls: opts.clientTls };
    const cluster = new DeimosCluster(opts.args ?? CLUSTER_DEFAULT_ARGS, opts.peerHost ?? '127.0.0.1', schemes);
    const ports = await freePorts(2 * size);
    const peerPorts = names.map((_, i) => ports[2 * i + 1]!);
    const bootstrapConfig = names.map((n, i) => `${n}=${opts.peerScheme ?? 'http'}://${cluster.peerHost}:${peerPorts[i]}`).join(',');
    try {
      for (const [i, name] of names.entries()) {
        cluster.members.push(await DeimosProcess.start({
          name, clientPort: ports[2 * i]!, peerPort: peerPorts[i]!, bootstrapConfig, args: [...cluster.args], waitReady: false, ...schemes,
        }));
      }
      const timeoutMs = opts.readyTimeoutMs ?? 30_000;
      await Promise.all(cluster.members.map(async (m) => {
        await m.waitReady(timeoutMs);
        await opts.onMemberReady?.(m);
      }));
      await cluster.leader({ timeoutMs });
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** Members whose process runs (paused ones included), removed ones excluded. */
  running(): DeimosProcess[] {
    return this.members.filter((m) => m.pid !== undefined && !this.removed.has(m));
  }

  /** Running members that are not paused: the ones that can answer. */
  live(): DeimosProcess[] {
    return this.running().filter((m) => !this.paused.has(m));
  }

  /** The member called `name`. */
  member(name: string): DeimosProcess {
    const m = this.members.find((p) => p.name === name);
    assert.ok(m, `no member ${name}`);
    return m;
  }

  /** `/v2/stats/self` of one member. */
  async selfStats(m: DeimosProcess, timeoutMs = 5_000): Promise<SelfStats> {
    const res = await http('GET', `${m.clientUrl}/v2/stats/self`, { timeoutMs, tls: m.clientTls });
    assert.equal(res.status, 200, `stats/self of ${m.name}: ${res.body}`);
    return res.json as SelfStats;
  }

  /** The raft member id of `m` (hex, as the members API spells it). */
  async idOf(m: DeimosProcess): Promise<string> {
    let id = this.ids.get(m);
    if (id === undefined) {
      id = (await this.selfStats(m)).id;
      this.ids.set(m, id);
    }
    return id;
  }

  /** The member with raft id `id`, if this cluster started it. */
  byId(id: string): DeimosProcess | undefined {
    for (const [m, mid] of this.ids) if (mid === id) return m;
    return undefined;
  }

  /**
   * Waits until one of `among` (default: the live members) is StateLeader and every one of them
   * names it as leader; returns it.
   */
  async leader(opts: { among?: DeimosProcess[]; timeoutMs?: number; not?: DeimosProcess } = {}): Promise<DeimosProcess> {
    let found: DeimosProcess | undefined;
    await waitFor(async () => {
      const among = opts.among ?? this.live();
      const stats = await Promise.all(among.map(async (m) => ({ m, s: await this.selfStats(m, 2_000) })));
      for (const { m, s } of stats) this.ids.set(m, s.id);
      const leaders = stats.filter(({ s }) => s.state === 'StateLeader');
      if (leaders.length !== 1) return false;
      const lead = leaders[0]!;
      if (lead.m === opts.not) return false;
      if (!stats.every(({ s }) => s.leaderInfo.leader === lead.s.id)) return false;
      found = lead.m;
      return true;
    }, { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 100, what: 'one leader that every live member agrees on' });
    return found!;
  }

  /** The live members other than `leader`. */
  followers(leader: DeimosProcess): DeimosProcess[] {
    return this.live().filter((m) => m !== leader);
  }

  /** kill -9 one member. */
  async kill(m: DeimosProcess): Promise<void> {
    this.paused.delete(m);
    await m.kill();
  }

  /** Graceful stop (SIGTERM). */
  async stop(m: DeimosProcess): Promise<void> {
    if (this.paused.has(m)) this.resume(m);
    await m.stop();
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing. */
  pause(m: DeimosProcess): void {
    assert.ok(m.pid !== undefined, `${m.name} is not running`);
    process.kill(m.pid, 'SIGSTOP');
    this.paused.add(m);
  }

  /** SIGCONT after `pause`. */
  resume(m: DeimosProcess): void {
    assert.ok(m.pid !== undefined, `${m.name} is not running`);
    process.kill(m.pid, 'SIGCONT');
    this.paused.delete(m);
  }

  /** Starts a stopped or killed member again on its ports and data directory (waits until it answers). */
  async restart(m: DeimosProcess): Promise<void> {
    if (this.paused.has(m)) this.resume(m);
    await m.restart();
  }

  /**
   * Adds a member at runtime the etcd way: POST /v2/members through `via`, then start the new process
   * with `--initial-cluster-state existing` and a bootstrap config of the current members plus itself.
   * Returns the process (already answering), the id the cluster assigned, the POST's 201 body and
   * the member list read between the POST and the start. `headers` go with the POST (credentials).
   */
  async addMember(name: string, opts: { via?: DeimosProcess; readyTimeoutMs?: number; headers?: Record<string, string> } = {}): Promise<{ member: DeimosProcess; id: string; added: any; listed: any[] }> {
    const via = opts.via ?? this.live()[0]!;
    const [clientPort, peerPort] = await freePorts(2);
    const peerUrl = `${this.schemes.peerScheme ?? 'http'}://127.0.0.1:${peerPort}`;
    const added = await membershipChange(() => http('POST', `${via.clientUrl}/v2/members`, {
      body: JSON.stringify({ peerURLs: [peerUrl] }), headers: { 'Content-Type': 'application/json', ...opts.headers }, tls: via.clientTls,
    }));
    assert.equal(added.status, 201, `POST /v2/members: ${added.body}`);
    const id = String(added.json.id);
    const list = await http('GET', `${via.clientUrl}/v2/members`, { tls: via.clientTls });
    assert.equal(list.status, 200, list.body);
    const listed = list.json.members as any[];
    const existing = (listed as Array<{ name: string; peerURLs: string[] }>)
      .filter((mm) => mm.name !== '')
      .flatMap((mm) => mm.peerURLs.map((u) => `${mm.name}=${u}`));
    const member = await DeimosProcess.start({
      name, clientPort, peerPort, bootstrapConfig: [...existing, `${name}=${peerUrl}`].join(','),
      args: [...this.args, '--initial-cluster-state', 'existing'], waitReady: false, ...this.schemes,
    });
    this.members.push(member);
    this.ids.set(member, id);
    await member.waitReady(opts.readyTimeoutMs ?? 30_000);
    return { member, id, added: added.json, listed };
  }

  /**
   * Waits until `via` would accept a membership change: like etcd's, its strict reconfiguration
   * check refuses changes (500) until every peer has been connected for 5 s. The probe adds a
   * member whose peer URL exists, which is refused with 409 once the check passes (no change made).
   */
  async waitReconfigReady(via: DeimosProcess = this.live()[0]!, timeoutMs = 30_000): Promise<void> {
    const body = JSON.stringify({ peerURLs: [this.live()[0]!.peerUrl] });
    const res = await membershipChange(() => http('POST', `${via.clientUrl}/v2/members`, {
      body, headers: { 'Content-Type': 'application/json' }, tls: via.clientTls,
    }), timeoutMs);
    assert.equal(res.status, 409, `probe of the strict reconfiguration check: ${res.body}`);
  }

  /** DELETE /v2/members/<id> of `m` through `via` (204), then waits until `m` exits by itself. */
  async removeMember(m: DeimosProcess, opts: { via?: DeimosProcess; exitTimeoutMs?: number } = {}): Promise<void> {
    const id = await this.idOf(m);
    const via = opts.via ?? this.live().find((p) => p !== m)!;
    const res = await membershipChange(() => http('DELETE', `${via.clientUrl}/v2/members/${id}`, { tls: via.clientTls }));
    assert.equal(res.status, 204, `DELETE /v2/members/${id}: ${res.body}`);
    this.removed.add(m);
    await withDeadline(m.waitExit(), opts.exitTimeoutMs ?? 20_000, `removed member ${m.name} to exit by itself`);
  }

  /** `GET /deimos/hash` of one member. */
  async hash(m: DeimosProcess): Promise<KeyspaceHash> {
    const res = await http('GET', `${m.clientUrl}/deimos/hash`, { timeoutMs: 5_000, tls: m.clientTls });
    assert.equal(res.status, 200, `hash of ${m.name}: ${res.body}`);
    return res.json as KeyspaceHash;
  }

  /**
   * Polls `/deimos/hash` on `members` (default: the live members) until all report the same hash at
   * the same store index; returns it. Only meaningful once writes have stopped.
   */
  async waitConverged(opts: { members?: DeimosProcess[]; timeoutMs?: number } = {}): Promise<KeyspaceHash> {
    let last: Array<[string, KeyspaceHash]> = [];
    try {
      await waitFor(async () => {
        const members = opts.members ?? this.live();
        last = await Promise.all(members.map(async (m) => [m.name, await this.hash(m)] as [string, KeyspaceHash]));
        const [, first] = last[0]!;
        return last.every(([, h]) => h.hash === first.hash && h.storeIndex === first.storeIndex);
      }, { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 200, what: 'every member to report the same keyspace hash' });
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlast hashes: ${JSON.stringify(Object.fromEntries(last))}`);
    }
    return last[0]![1];
  }

  /**
   * Starts `clients` writers under `prefix`, round robin over the live members (or `endpoints()`);
   * `destroy()` stops it too, so a failed test never leaves writers running.
   */
  startWriteLoad(prefix: string, clients: number, endpoints: () => DeimosProcess[] = () => this.live()): WriteLoad {
    const load = new WriteLoad(prefix, clients, endpoints);
    this.loads.push(load);
    return load;
  }

  /** The output of every member, labelled (for failure messages). */
  outputs(): string {
    return this.members.map((m) => `----- ${m.name} -----\n${m.output.slice(-8_000)}`).join('\n');
  }

  /**
   * Kills every process and removes the data directories. With `DEIMOS_E2E_LOG_DIR` set, each
   * member's output is kept there first as `<first member's client port>-<name>.log`.
   */
  async destroy(): Promise<void> {
    await Promise.all(this.loads.map((l) => l.stop()));
    const logDir = process.env.DEIMOS_E2E_LOG_DIR;
    if (logDir && this.members.length > 0) {
      mkdirSync(logDir, { recursive: true });
      const tag = new URL(this.members[0]!.clientUrl).port;
      for (const m of this.members) writeFileSync(join(logDir, `${tag}-${m.name}.log`), m.output);
    }
    for (const m of [...this.paused]) {
      if (m.pid !== undefined) process.kill(m.pid, 'SIGCONT');
    }
    this.paused.clear();
    await Promise.all(this.members.map((m) => m.destroy()));
  }
}

/** Rejects with `what` when `promise` does not settle within `timeoutMs`. */
/**
 * Sends a membership change until the strict reconfiguration check lets it through: like etcd, a
 * member refuses changes (500) until every peer has been connected for 5 s, e.g. just after a
 * cluster started or a member restarted.
 */
export async function membershipChange<T extends { status: number }>(send: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await send();
    if (res.status !== 500 || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One acknowledged write of a `WriteLoad`. */
export interface AckedWrite {
  key: string;
  value: string;
  modifiedIndex: number;
  via: string;
  /** When it was acknowledged (ms since epoch). */
  atMs: number;
}

/**
 * Clients writing continuously (each its own key sequence under `prefix`), round robin over a set of
 * endpoints asked for before every write; every acknowledged write is recorded, failures are counted.
 * Always `stop()` it (in a `finally`): its loops keep the test process alive.
 */
export class WriteLoad {
  readonly acked: AckedWrite[] = [];
  failures = 0;
  private running = true;
  private readonly loops: Array<Promise<void>>;
  /** Time of the latest acknowledgement (ms since epoch). */
  lastAckAtMs = 0;

  /** Starts `clients` writers; `endpoints()` is asked before every write (the live members, say). */
  constructor(readonly prefix: string, clients: number, private readonly endpoints: () => DeimosProcess[], private readonly requestTimeoutMs = 10_000) {
    this.loops = Array.from({ length: clients }, (_, i) => this.loop(i));
  }

  private async loop(client: number): Promise<void> {
    let seq = 0;
    while (this.running) {
      const eps = this.endpoints();
      if (eps.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      // Round robin per write: every endpoint, members added later included, gets writes.
      const target = eps[(client + seq) % eps.length]!;
      const key = `${this.prefix}/c${client}/${String(seq).padStart(6, '0')}`;
      const value = `v${client}-${seq}`;
      try {
        const res = await http('PUT', `${target.clientUrl}/v2/keys${key}`, { form: { value }, timeoutMs: this.requestTimeoutMs, tls: target.clientTls });
        if (res.status === 201 || res.status === 200) {
          this.lastAckAtMs = Date.now();
          this.acked.push({ key, value, modifiedIndex: res.json.node.modifiedIndex, via: target.name, atMs: this.lastAckAtMs });
        } else {
          this.failures += 1;
        }
      } catch {
        this.failures += 1;
        await new Promise((r) => setTimeout(r, 20));
      }
      seq += 1;
    }
  }

  /** Number of acknowledged writes so far. */
  get count(): number {
    return this.acked.length;
  }

  /** Stops the clients and waits for their in-flight requests. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * Asserts that every acknowledged write is in the keyspace read (linearizably, recursively) through
 * `via`, with its value.
 */
export async function assertAllAcked(via: DeimosProcess, prefix: string, acked: readonly AckedWrite[]): Promise<void> {
  const res = await http('GET', `${via.clientUrl}/v2/keys${prefix}?recursive=true`, { timeoutMs: 30_000, tls: via.clientTls });
  assert.equal(res.status, 200, `GET ${prefix} through ${via.name}: ${res.body.slice(0, 300)}`);
  const present = new Map<string, string>();
  const walk = (n: any): void => {
    if (n.dir) for (const c of n.nodes ?? []) walk(c);
    else present.set(n.key, n.value);
  };
  walk(res.json.node);
  const missing = acked.filter((w) => present.get(w.key) !== w.value);
  assert.equal(missing.length, 0, `${missing.length} of ${acked.length} acknowledged writes are missing or wrong, e.g. ${JSON.stringify(missing.slice(0, 5))}`);
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function runConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
