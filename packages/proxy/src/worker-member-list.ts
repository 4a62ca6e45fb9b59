/**
 * The member list of one worker of a proxy with `--client-workers N`: the primary runs the one
 * discovery (primary-discovery.ts) and pushes the list with its marks, which this applies to the
 * worker's pool, so that the members are polled once, not once a worker. The worker still marks a
 * member failed itself when a request to it fails (its next request goes elsewhere at once) and
 * reports the failure, so that the primary logs the outage once for every worker and the other
 * workers skip the member too; it reports an answer only from a member the primary counts down,
 * which ends the outage there.
 */
import type { Endpoint, EndpointPool, MemberHealthObserver } from './endpoint-pool.js';
import type { DiscoveredMember, ProxyWorkerMessage } from './proxy-worker-message.js';
import type { ListenAddress } from './self-address.js';

/** The worker's end of the primary's discovery; also its pool's health observer. */
export class WorkerMemberList implements MemberHealthObserver {
  private pool: EndpointPool | undefined;
  /** Members the primary counts down: from its last list, and the failures reported since. */
  private readonly down = new Set<string>();
  private firstList: (() => void) | undefined;
  private nextRefresh = 1;
  private readonly refreshes = new Map<number, (learned: boolean) => void>();
  private closed = false;

  constructor(private readonly send: (m: ProxyWorkerMessage) => void) {}

  /**
   * Asks the primary for the member list, saying where this worker listens; resolves once the
   * first list is in `pool` (at once when the primary has one: a restarted worker), or when the
   * primary is gone.
   */
  start(pool: EndpointPool, addresses: ListenAddress[]): Promise<void> {
    this.pool = pool;
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.firstList = resolve;
      this.send({ proxy: 'members?', addresses });
    });
  }

  /** Asks the primary to refresh the member list now; true when it learned one. */
  refresh(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const id = this.nextRefresh++;
    return new Promise((resolve) => {
      this.refreshes.set(id, resolve);
      this.send({ proxy: 'refresh?', id });
    });
  }

  /** Takes a message from the primary; false when it is not this list's. */
  receive(m: ProxyWorkerMessage): boolean {
    if (m.proxy === 'members') this.apply(m.members);
    else if (m.proxy === 'refreshed') {
      this.refreshes.get(m.id)?.(m.learned);
      this.refreshes.delete(m.id);
    } else return false;
    return true;
  }

  /** The primary is gone: what waits for it is answered now. */
  close(): void {
    this.closed = true;
    for (const resolve of this.refreshes.values()) resolve(false);
    this.refreshes.clear();
    this.takeFirstList()?.();
  }

  failed(e: Endpoint, reason: string): void {
    this.down.add(e.url);
    this.send({ proxy: 'member-failed', url: e.url, reason });
  }

  answered(e: Endpoint): void {
    // Every answer passes here: only one from a member the primary counts down is news to it.
    if (this.down.size === 0 || !this.down.delete(e.url)) return;
    this.send({ proxy: 'member-answered', url: e.url });
  }

  private apply(members: readonly DiscoveredMember[]): void {
    const pool = this.pool;
    if (pool === undefined) return;
    pool.setUrls(members.map((m) => m.url));
    this.down.clear();
    for (const m of members) {
      pool.applyMarks(m.url, m);
      if (m.down) this.down.add(m.url);
    }
    this.takeFirstList()?.();
  }

  private takeFirstList(): (() => void) | undefined {
    const first = this.firstList;
    this.firstList = undefined;
    return first;
  }
}
