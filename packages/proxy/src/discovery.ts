/**
 * Keeps the pool's member list current: learns client URLs from `GET /v2/members` on a member's
 * client URL (the members already known first, then the --endpoints seeds), or from `GET /members` on
 * a peer URL of --bootstrap-config, and refreshes on an interval so that added and removed members
 * are picked up without a restart. The first answer fixes the cluster ID (`X-Etcd-Cluster-Id`): a
 * member list from, or a new member answering with, another cluster's ID is ignored, so that a
 * misconfigured URL (a member of another cluster) never receives this cluster's traffic. A proxy
 * with workers runs one, in its primary, and pushes what it learns to the workers (proxy-workers.ts).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { MemberJSON } from '@deimos/protocol';
import type { EndpointPool } from './endpoint-pool.js';
import type { ProxyLogger } from './logger.js';
import type { ProxyConfig } from './proxy-config.js';
import type { TlsMaterial } from './tls-material.js';
import { namesPort, portOf } from './url-port.js';
import { formatDuration, OutageLog } from './outage-log.js';


/** Largest member list read (a few thousand members); a bigger answer is no member's. */
const MAX_MEMBERS_BYTES = 4 * 1024 * 1024;
/** Where discovery starts and how often it runs. */
export interface DiscoveryOptions {
  /** Client URLs given with --endpoints. */
  seeds: readonly string[];
  /** Peer URLs from --bootstrap-config. */
  bootstrapPeerUrls: readonly string[];
  refreshIntervalMs: number;
  /** Bound of one members request. */
  requestTimeoutMs: number;
  /** Filters out the proxy's own address. */
  isSelf: (url: string) => Promise<boolean>;
  /** TLS material towards https client URLs. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** TLS material towards https peer URLs of --bootstrap-config. */
  peerTls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Called after each refresh, whether it learned a list or not (a primary pushes the pool to its workers). */
  onRefreshed?: () => void;
}

/** The options a proxy's configuration gives its discovery. */
export function discoveryOptions(config: ProxyConfig, seeds: readonly string[], isSelf: (url: string) => Promise<boolean>, tls: { client: TlsMaterial; peer: TlsMaterial }): DiscoveryOptions {
  return {
    seeds, bootstrapPeerUrls: config.bootstrapPeerUrls, refreshIntervalMs: config.refreshIntervalMs,
    requestTimeoutMs: Math.max(2 * config.dialTimeoutMs, 3000), isSelf, tls: tls.client, peerTls: tls.peer,
  };
}

/** The --endpoints URLs that are not this proxy; each that is is logged when `logger` is given. */
export async function seedsOf(endpoints: readonly string[], isSelf: (url: string) => Promise<boolean>, logger?: ProxyLogger): Promise<string[]> {
  const seeds: string[] = [];
  for (const url of endpoints) {
    if (await isSelf(url)) logger?.warn('ignoring --endpoints entry: it is this proxy', { url });
    else seeds.push(url);
  }
  return seeds;
}

/** A member list and the cluster ID of the member that sent it (undefined when it sent none). */
interface MembersAnswer {
  members: MemberJSON[];
  clusterId: string | undefined;
}

/** Retry interval while no member list has been learned yet. */
const UNKNOWN_RETRY_MS = 1000;

/** The member-list refresher of one proxy. */
export class Discovery {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private learned = false;
  private running: Promise<boolean> | undefined;
  /** The cluster's ID, fixed by the first member list learned. */
  private clusterId: string | undefined;
  /** Refreshes that no member answers are logged once, then as reminders (the retry runs every second at first). */
  private readonly refreshOutage = new OutageLog();

  constructor(private readonly pool: EndpointPool, private readonly opts: DiscoveryOptions, private readonly logger: ProxyLogger) {}

  /** Runs the first refresh, then keeps refreshing until {@link stop}. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.learned ? this.opts.refreshIntervalMs : Math.min(UNKNOWN_RETRY_MS, this.opts.refreshIntervalMs);
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, delay);
  }

  /** Stops refreshing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One refresh (concurrent calls share it); true when a member list was learned. */
  refresh(): Promise<boolean> {
    this.running ??= this.refreshOnce().finally(() => {
      this.running = undefined;
      this.opts.onRefreshed?.();
    });
    return this.running;
  }

  private async refreshOnce(): Promise<boolean> {
    const known = [...this.pool.all()].sort((a, b) => Number(this.pool.isFailed(a)) - Number(this.pool.isFailed(b))).map((e) => e.url);
    const clientCandidates = [...new Set([...known, ...this.opts.seeds])];
    for (const url of clientCandidates) {
      if (this.stopped) return false;
      const answer = await this.fetchMembers(`${url}/v2/members`);
      if (answer && this.sameCluster(answer, url) && (await this.apply(answer, url))) {
        this.pool.markHealthy(url);
        return this.refreshed(url);
      }
    }
    for (const peer of this.opts.bootstrapPeerUrls) {
      if (this.stopped) return false;
      const answer = await this.fetchMembers(`${peer}/members`, this.opts.peerTls);
      if (answer && this.sameCluster(answer, peer) && (await this.apply(answer, peer))) return this.refreshed(peer);
    }
    const tried = [...clientCandidates, ...this.opts.bootstrapPeerUrls];
    const log = tried.length > 0 ? this.refreshOutage.failed(Date.now()) : undefined;
    if (log?.kind === 'down') this.logger.warn('member list refresh failed: no member answered', { tried });
    else if (log?.kind === 'still-down') this.logger.warn('member list refresh still failing: no member answers', { tried, downFor: formatDuration(log.downForMs), failures: log.failures });
    return false;
  }

  /** Ends a run of failed refreshes, if there was one, with one log line; true. */
  private refreshed(from: string): true {
    const ended = this.refreshOutage.succeeded(Date.now());
    if (ended) this.logger.info('member list refresh works again', { from, downFor: formatDuration(ended.downForMs), failures: ended.failures });
    return true;
  }

  /** True when `answer` comes from this proxy's cluster; the first answer with an ID fixes it. */
  private sameCluster(answer: MembersAnswer, source: string): boolean {
    if (answer.clusterId === undefined) return true;
    this.clusterId ??= answer.clusterId;
    if (answer.clusterId === this.clusterId) return true;
    this.logger.warn('ignoring a member of another cluster', { url: source, clusterId: answer.clusterId, expected: this.clusterId });
    return false;
  }

  /**
   * Applies a member list; false when it names no usable client URL (keeps the old list). A URL new to
   * the pool is added only once it answers with this cluster's ID (an unreachable one waits for the
   * next refresh: it could not serve traffic anyway).
   */
  private async apply(answer: MembersAnswer, source: string): Promise<boolean> {
    const known = new Set(this.pool.urls());
    const urls: string[] = [];
    for (const m of answer.members) {
      for (const raw of m.clientURLs ?? []) {
        const url = normalize(raw);
        if (url === undefined || urls.includes(url)) continue;
        if (await this.opts.isSelf(url)) {
          this.logger.warn('ignoring a member client URL that is this proxy', { url });
          continue;
        }
        if (!known.has(url) && url !== source && !(await this.verifyNew(url))) continue;
        urls.push(url);
      }
    }
    if (urls.length === 0) return false;
    const { added, removed } = this.pool.setUrls(urls.sort());
    if (added.length > 0 || removed.length > 0 || !this.learned) {
      this.logger.info('member list updated', { from: source, members: urls, added, removed });
    }
    this.learned = true;
    return true;
  }

  /** True when a member new to the pool answers `/v2/members` with this cluster's ID. */
  private async verifyNew(url: string): Promise<boolean> {
    const answer = await this.fetchMembers(`${url}/v2/members`);
    if (answer === undefined) {
      this.logger.debug('not adding a member that does not answer yet', { url });
      return false;
    }
    return this.sameCluster(answer, url);
  }

  private fetchMembers(url: string, tls = this.opts.tls): Promise<MembersAnswer | undefined> {
    return new Promise((resolve) => {
      const u = new URL(url);
      const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(u, { method: 'GET', agent: false, timeout: this.opts.requestTimeoutMs, ...tls }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_MEMBERS_BYTES) req.destroy(new Error(`member list over ${MAX_MEMBERS_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', () => resolve(undefined));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(undefined);
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { members?: unknown } | unknown[];
            // An etcd member's peer port answers `/members` with a bare array (ids as numbers, which
            // lose digits here but are not used: only client URLs are); a Deimos member's with an object.
            const members = Array.isArray(body) ? body : body.members;
            const id = res.headers['x-etcd-cluster-id'];
            const clusterId = typeof id === 'string' && id !== '' ? id : undefined;
            resolve(Array.isArray(members) ? { members: members as MemberJSON[], clusterId } : undefined);
          } catch {
            resolve(undefined); // not a member's answer: try the next candidate
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        this.logger.debug('members request failed', { url, error: err.message });
        resolve(undefined);
      });
      req.end();
    });
  }
}

function normalize(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const u = new URL(raw);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || (u.port === '' && !namesPort(raw))) return undefined;
    return `${u.protocol}//${u.hostname}:${portOf(u)}`;
  } catch {
    return undefined;
  }
}
