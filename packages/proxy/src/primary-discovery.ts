/**
 * The one discovery of a proxy with `--client-workers N`, run by its primary: it polls the members
 * (discovery.ts) and keeps the one health log (member-health-log.ts), so that members are polled
 * once and an outage is logged once, whatever the number of workers. Its pool forwards nothing: it
 * holds the list and the marks, from discovery's answers and the failures and answers the workers
 * report, and every change is pushed to the workers that have their first list
 * (worker-member-list.ts is their end), coalesced to one push per event-loop turn.
 * `deimos_proxy_upstream_up` is rendered from it: the proxy's view of its members, not a merge of
 * the workers' views.
 */
import { Discovery, discoveryOptions, seedsOf } from './discovery.js';
import { EndpointPool } from './endpoint-pool.js';
import type { ProxyLogger } from './logger.js';
import { MemberHealthLog } from './member-health-log.js';
import type { UpstreamHealth } from './metrics.js';
import type { ProxyConfig } from './proxy-config.js';
import type { DiscoveredMember, ProxyWorkerMessage } from './proxy-worker-message.js';
import { resolvesToSelf, type ListenAddress } from './self-address.js';
import type { TlsMaterial } from './tls-material.js';

/** Sends a message to one worker (nothing once it is gone). */
export type WorkerSend = (m: ProxyWorkerMessage) => void;

/** The primary's discovery and the members' health log. */
export class PrimaryDiscovery {
  private readonly health: MemberHealthLog;
  private readonly pool: EndpointPool;
  private discovery: Discovery | undefined;
  private starting: Promise<void> | undefined;
  private firstRefreshDone = false;
  /** Workers that asked for the list and wait for the first refresh. */
  private readonly joining = new Set<WorkerSend>();
  /** Workers that have their first list: every change is pushed to them. */
  private readonly joined = new Set<WorkerSend>();
  private pushQueued = false;
  private stopped = false;

  /** `now` is the clock of the members' marks (tests pass their own). */
  constructor(
    private readonly config: ProxyConfig,
    private readonly tls: { client: TlsMaterial; peer: TlsMaterial },
    private readonly logger: ProxyLogger,
    now: () => number = Date.now,
  ) {
    this.health = new MemberHealthLog(logger, config.failureWaitMs);
    this.pool = new EndpointPool(config.failureWaitMs, now, this.health);
  }

  /** Takes a worker's message (`send` answers that worker); false when it is not the member list's. */
  receive(m: ProxyWorkerMessage, send: WorkerSend): boolean {
    if (m.proxy === 'members?') this.join(m.addresses, send);
    else if (m.proxy === 'member-failed') this.failed(m.url, m.reason);
    else if (m.proxy === 'member-answered') this.answered(m.url);
    else if (m.proxy === 'refresh?') {
      void this.refresh().then((learned) => {
        // The list first: the worker's refresh resolves with the new list in its pool.
        send({ proxy: 'members', members: this.members() });
        send({ proxy: 'refreshed', id: m.id, learned });
      });
    } else return false;
    return true;
  }

  /** A worker is gone: nothing more goes to it. */
  leave(send: WorkerSend): void {
    this.joining.delete(send);
    this.joined.delete(send);
  }

  /**
   * A worker listening on `addresses` asks for the list, which it gets once the first refresh has
   * run. The first to ask starts discovery (the workers listen, so they know the addresses that
   * discovery must leave out: the proxy's own; they all share the same sockets).
   */
  private join(addresses: ListenAddress[], send: WorkerSend): void {
    this.starting ??= this.start(addresses).catch((err: Error) => {
      // The workers still get the list as it stands (the seeds, if any), not a wait without end.
      this.logger.error('proxy discovery failed to start', { error: err.message });
      this.releaseJoining();
    });
    if (!this.firstRefreshDone) {
      this.joining.add(send);
      return;
    }
    send({ proxy: 'members', members: this.members() });
    this.joined.add(send);
  }

  private async start(addresses: ListenAddress[]): Promise<void> {
    const isSelf = (url: string) => resolvesToSelf(url, addresses);
    const seeds = await seedsOf(this.config.endpoints, isSelf, this.logger);
    if (this.stopped) return;
    this.pool.setUrls(seeds);
    const options = { ...discoveryOptions(this.config, seeds, isSelf, this.tls), onRefreshed: () => this.changed() };
    this.discovery = new Discovery(this.pool, options, this.logger);
    await this.discovery.start();
    this.releaseJoining();
  }

  /** The first refresh ran (or could not): the workers waiting for it get the list. */
  private releaseJoining(): void {
    this.firstRefreshDone = true;
    const m: ProxyWorkerMessage = { proxy: 'members', members: this.members() };
    for (const send of this.joining) {
      send(m);
      this.joined.add(send);
    }
    this.joining.clear();
  }

  /** A worker's request to `url` got no answer. */
  private failed(url: string, reason: string): void {
    const e = this.pool.all().find((x) => x.url === url);
    if (e === undefined) return; // removed from the list since
    this.pool.markFailed(e, reason);
    this.changed();
  }

  /** A member counted down answered a worker. */
  private answered(url: string): void {
    this.pool.markHealthy(url);
    this.changed();
  }

  /** Refreshes the list now; true when one was learned. */
  async refresh(): Promise<boolean> {
    await this.starting;
    return this.discovery === undefined ? false : this.discovery.refresh();
  }

  /** The members and whether each is skipped now, for `deimos_proxy_upstream_up`. */
  upstreams(): UpstreamHealth[] {
    return this.pool.all().map((e) => ({ url: e.url, failed: this.pool.isFailed(e) }));
  }

  /** The list as pushed to the workers. */
  members(): DiscoveredMember[] {
    return this.pool.all().map((e) => ({ url: e.url, failedUntilMs: e.failedUntilMs, answeredAtMs: e.answeredAtMs, down: this.health.isDown(e) }));
  }

  /** Stops refreshing. */
  stop(): void {
    this.stopped = true;
    this.discovery?.stop();
  }

  /** Pushes the list once this turn's reports are in (a burst of failures makes one push). */
  private changed(): void {
    // Before the first refresh has run, the workers that asked are waiting for its end.
    if (this.pushQueued || !this.firstRefreshDone) return;
    this.pushQueued = true;
    setImmediate(() => {
      this.pushQueued = false;
      if (this.stopped) return;
      const m: ProxyWorkerMessage = { proxy: 'members', members: this.members() };
      for (const send of this.joined) send(m);
    });
  }
}
