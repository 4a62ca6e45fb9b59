/**
 * A 3- or 5-member cluster on loopback for chaos runs: each member behind a fault proxy on its
 * advertised peer port (see fault-proxy.ts), with the link table the nemesis controls, plus the
 * cluster-level queries the harness needs (leader, member IDs, keyspace hashes) and membership
 * changes through the members API.
 */
import { http } from '../support/http.js';
import { membershipChange } from '../support/deimos-cluster.js';
import { SmallDisk } from '../support/small-disk.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/wait-for.js';
import { ChaosMember } from './chaos-member.js';
import { FaultProxy } from './fault-proxy.js';
import { LinkTable } from './link-table.js';

/** Options of a chaos cluster. */
export interface ChaosClusterOptions {
  size: number;
  workDir: string;
  /** Environment given to every member (e.g. the broken-mode flag). */
  env?: Record<string, string>;
  snapshotCount: number;
  /** Raft tick in ms; election timeout in ticks. */
  tickMs: number;
  electionTicks: number;
  requestTimeoutMs: number;
  /** Give each member a tmpfs of this size for its data (root only), for the disk-full fault. */
  diskBytes?: number;
  /** Open-files limit of every member (`ulimit -n`), so that connection floods meet real limits. */
  memberFdLimit?: number;
}

/** What `GET /deimos/hash` answers. */
export interface KeyspaceHash {
  hash: string;
  nodes: number;
  storeIndex: number;
  appliedIndex: number;
}

/** The cluster; see the module comment. */
export class ChaosCluster {
  readonly links = new LinkTable();
  readonly members: ChaosMember[] = [];
  private readonly proxies = new Map<string, FaultProxy>();

  private constructor(private readonly opts: ChaosClusterOptions) {
    this.links.onChange(() => {
      for (const proxy of this.proxies.values()) proxy.reapply();
    });
  }

  /** Starts every member and proxy and waits until the cluster serves linearizable reads. */
  static async start(opts: ChaosClusterOptions): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(opts);
    const ports = await freePorts(opts.size * 3);
    for (let i = 0; i < opts.size; i++) {
      const name = `m${i + 1}`;
      const disk = opts.diskBytes === undefined ? undefined : SmallDisk.mount(opts.diskBytes);
      const member = new ChaosMember(name, { client: ports[3 * i]!, publicPeer: ports[3 * i + 1]!, privatePeer: ports[3 * i + 2]! }, opts.workDir, disk);
      cluster.members.push(member);
      const proxy = new FaultProxy(member.ports.publicPeer, member.ports.privatePeer, cluster.links.lookupFor(name));
      cluster.proxies.set(name, proxy);
      await proxy.start();
    }
    const bootstrap = cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    try {
      for (const m of cluster.members) m.launch({ bootstrapConfig: bootstrap, clusterState: 'new', env: opts.env, args: cluster.memberArgs(), fdLimit: opts.memberFdLimit });
      await cluster.waitHealthy(30_000);
      await cluster.learnIds();
    } catch (err) {
      await cluster.destroy(); // no process, proxy or mounted disk left behind
      throw err;
    }
    return cluster;
  }

  /** Names of all members. */
  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  /** The member called `name`. */
  member(name: string): ChaosMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`assertion failed: no member ${name}`);
    return m;
  }

  /** The flags every member gets. */
  memberArgs(): string[] {
    const o = this.opts;
    return ['--snapshot-count', String(o.snapshotCount), '--tick-interval', `${o.tickMs}ms`,
      '--election-timeout', String(o.electionTicks), '--timeout', `${o.requestTimeoutMs}ms`];
  }

  /** (Re)starts a stopped member on its current data directory, with `env` on top of the cluster's. */
  restart(name: string, env: Record<string, string> = {}): void {
    const m = this.member(name);
    const bootstrap = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    // A member that joined later must say `existing` on a fresh directory; on restart the WAL decides.
    m.launch({ bootstrapConfig: bootstrap, clusterState: this.joined[name] ? 'existing' : 'new', env: { ...this.opts.env, ...env }, args: this.memberArgs(), fdLimit: this.opts.memberFdLimit });
  }

  /** Members re-added through the members API, by name (their restarts need `existing`). */
  private readonly joined: Record<string, true> = {};
  /** Members removed and not (yet) added back. */
  readonly removed = new Set<string>();

  /** Waits until every running, unpaused member answers a quorum read. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await waitFor(async () => {
      for (const m of this.members) {
        if (!m.running || m.paused) continue;
        const res = await http('GET', `${m.clientUrl}/v2/keys/?quorum=true`, { timeoutMs: 2_000 });
        if (res.status !== 200) return false;
      }
      return true;
    }, { timeoutMs, intervalMs: 200, what: 'every running member to serve quorum reads' });
  }

  /** Asks a member for the member list and teaches the link table every ID -> name. */
  async learnIds(): Promise<void> {
    for (const m of this.members) {
      if (!m.running || m.paused) continue;
      try {
        const res = await http('GET', `${m.clientUrl}/v2/members`, { timeoutMs: 2_000 });
        if (res.status !== 200) continue;
        for (const info of (res.json as { members: Array<{ id: string; name: string; peerURLs: string[] }> }).members) {
          const owner = this.members.find((x) => info.peerURLs.includes(x.peerUrl));
          if (!owner) continue;
          this.links.learnId(info.id, owner.name);
          if (info.name === owner.name || owner.id === undefined) owner.id = info.id;
        }
        return;
      } catch {
        // try the next member
      }
    }
  }

  /** The leader's name as most reachable members see it, or undefined during an election. */
  async leader(): Promise<string | undefined> {
    const votes = new Map<string, number>();
    await Promise.all(this.members.filter((m) => m.running && !m.paused).map(async (m) => {
      try {
        const res = await http('GET', `${m.clientUrl}/v2/members/leader`, { timeoutMs: 1_000 });
        const name = res.status === 200 ? this.members.find((x) => x.id === (res.json as { id: string }).id)?.name : undefined;
        if (name) votes.set(name, (votes.get(name) ?? 0) + 1);
      } catch {
        // no vote
      }
    }));
    return [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
  }

  /** Removes a member through another member's members API and waits for the removed process to exit. */
  async removeMember(name: string, via: string): Promise<void> {
    const m = this.member(name);
    if (m.id === undefined) throw new Error(`assertion failed: ID of ${name} unknown`);
    const res = await membershipChange(() => http('DELETE', `${this.member(via).clientUrl}/v2/members/${m.id}`, { timeoutMs: 15_000 }));
    if (res.status !== 204) throw new Error(`removing ${name} (${m.id}) via ${via}: ${res.status} ${res.body}`);
    m.note(`removed from the cluster (was ${m.id})`);
    this.removed.add(name);
    await Promise.race([m.waitExit(), new Promise((r) => setTimeout(r, 15_000))]);
    if (m.running) {
      m.note('still running 15 s after its removal; killed');
      await m.kill();
    }
  }

  /** Adds a removed member again through the members API and starts it on an empty data directory. */
  async readdMember(name: string, via: string): Promise<void> {
    const m = this.member(name);
    const res = await membershipChange(() => http('POST', `${this.member(via).clientUrl}/v2/members`, {
      body: JSON.stringify({ peerURLs: [m.peerUrl] }), headers: { 'Content-Type': 'application/json' }, timeoutMs: 15_000,
    }));
    if (res.status !== 201) throw new Error(`re-adding ${name} via ${via}: ${res.status} ${res.body}`);
    m.id = (res.json as { id: string }).id;
    this.links.learnId(m.id, name);
    this.joined[name] = true;
    this.removed.delete(name);
    this.proxies.get(name)?.cutAll();
    m.freshDataDir();
    const bootstrap = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    m.launch({ bootstrapConfig: bootstrap, clusterState: 'existing', env: this.opts.env, args: this.memberArgs(), fdLimit: this.opts.memberFdLimit });
  }

  /** The keyspace hash of one member. */
  async hash(name: string): Promise<KeyspaceHash> {
    const res = await http('GET', `${this.member(name).clientUrl}/deimos/hash`, { timeoutMs: 5_000 });
    if (res.status !== 200) throw new Error(`hash of ${name}: ${res.status} ${res.body}`);
    return res.json as KeyspaceHash;
  }

  /** Connection counts of every proxy, for the run report. */
  proxyCounts(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.proxies].map(([name, p]) => [name, { ...p.counts }]));
  }

  /** Kills every member, stops the proxies and unmounts the members' small disks. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
    await Promise.all(this.members.map((m) => m.closeLog()));
    for (const m of this.members) m.disk?.unmount();
  }
}
