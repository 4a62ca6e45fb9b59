/**
 * The proxy's counters, served as Prometheus text on `GET /metrics`: requests, failures and latency
 * per upstream member, the requests the proxy answered itself (unavailable, read-only, loop), and
 * the client connections against their bound.
 */

/** Latency buckets (upper bounds, seconds). */
const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Where the client connection counts come from (the listeners' connection gate). */
export interface ConnectionCounts {
  readonly open: number;
  readonly limit: number;
  readonly refused: number;
}

interface UpstreamStats {
  requests: number;
  failures: number;
  latencySumS: number;
  latencyCount: number;
  buckets: number[];
}

/** Counters of one proxy. */
export class ProxyMetrics {
  private readonly upstreams = new Map<string, UpstreamStats>();
  private readonly local = new Map<string, number>();
  private received = 0;
  private retries = 0;
  private connections: ConnectionCounts | undefined;
  private showLimit = true;

  /**
   * Reports client connections from `counts` (the listeners' gate). A worker of a proxy with
   * several leaves the limit out (`showLimit: false`): the texts are summed, and its primary
   * reports the proxy-wide bound once.
   */
  countConnections(counts: ConnectionCounts, showLimit = true): void {
    this.connections = counts;
    this.showLimit = showLimit;
  }

  private upstream(url: string): UpstreamStats {
    let s = this.upstreams.get(url);
    if (!s) {
      s = { requests: 0, failures: 0, latencySumS: 0, latencyCount: 0, buckets: BUCKETS_S.map(() => 0) };
      this.upstreams.set(url, s);
    }
    return s;
  }

  /** A client request arrived. */
  requestReceived(): void {
    this.received += 1;
  }

  /** A request was sent to `url`. */
  forwarded(url: string): void {
    this.upstream(url).requests += 1;
  }

  /** Time to response headers from `url`. */
  observeLatency(url: string, ms: number): void {
    const s = this.upstream(url);
    const seconds = ms / 1000;
    s.latencySumS += seconds;
    s.latencyCount += 1;
    for (let i = 0; i < BUCKETS_S.length; i++) if (seconds <= BUCKETS_S[i]!) s.buckets[i]! += 1;
  }

  /** An attempt on `url` failed without a response (refused, timed out, reset). */
  failed(url: string): void {
    this.upstream(url).failures += 1;
  }

  /** An attempt was repeated on another member. */
  retried(): void {
    this.retries += 1;
  }

  /** The proxy answered a request itself, for `reason` (`unavailable`, `readonly`, `loop`, ...). */
  answeredLocally(reason: string): void {
    this.local.set(reason, (this.local.get(reason) ?? 0) + 1);
  }

  /** Requests sent to `url` so far (tests and logs). */
  requestsTo(url: string): number {
    return this.upstreams.get(url)?.requests ?? 0;
  }

  /**
   * Prometheus text exposition, with `deimos_proxy_upstream_up` for `members` when given (a worker
   * of a proxy with several leaves it to its primary, which keeps the members' health for all).
   */
  render(members?: readonly UpstreamHealth[]): string {
    const out: string[] = [];
    out.push('# HELP deimos_proxy_requests_received_total Client requests received.', '# TYPE deimos_proxy_requests_received_total counter');
    out.push(`deimos_proxy_requests_received_total ${this.received}`);
    out.push('# HELP deimos_proxy_retries_total Attempts repeated on another member.', '# TYPE deimos_proxy_retries_total counter');
    out.push(`deimos_proxy_retries_total ${this.retries}`);
    out.push('# HELP deimos_proxy_local_responses_total Requests the proxy answered itself, by reason.', '# TYPE deimos_proxy_local_responses_total counter');
    for (const [reason, n] of this.local) out.push(`deimos_proxy_local_responses_total{reason="${reason}"} ${n}`);
    const conns = this.connections;
    if (conns !== undefined) {
      out.push('# HELP deimos_proxy_client_connections Open client connections (idle and watching ones included).', '# TYPE deimos_proxy_client_connections gauge');
      out.push(`deimos_proxy_client_connections ${conns.open}`);
      if (this.showLimit) out.push(...connectionLimitLines(conns.limit));
      out.push('# HELP deimos_proxy_client_connections_refused_total Client connections refused because --max-client-conns were open.', '# TYPE deimos_proxy_client_connections_refused_total counter');
      out.push(`deimos_proxy_client_connections_refused_total ${conns.refused}`);
    }
    out.push('# HELP deimos_proxy_upstream_requests_total Requests sent to each member.', '# TYPE deimos_proxy_upstream_requests_total counter');
    for (const [url, s] of this.upstreams) out.push(`deimos_proxy_upstream_requests_total{${label(url)}} ${s.requests}`);
    out.push('# HELP deimos_proxy_upstream_failures_total Attempts that got no response (refused, timed out, reset).', '# TYPE deimos_proxy_upstream_failures_total counter');
    for (const [url, s] of this.upstreams) out.push(`deimos_proxy_upstream_failures_total{${label(url)}} ${s.failures}`);
    out.push('# HELP deimos_proxy_upstream_latency_seconds Time to response headers.', '# TYPE deimos_proxy_upstream_latency_seconds histogram');
    for (const [url, s] of this.upstreams) {
      BUCKETS_S.forEach((le, i) => out.push(`deimos_proxy_upstream_latency_seconds_bucket{${label(url)},le="${le}"} ${s.buckets[i]}`));
      out.push(`deimos_proxy_upstream_latency_seconds_bucket{${label(url)},le="+Inf"} ${s.latencyCount}`);
      out.push(`deimos_proxy_upstream_latency_seconds_sum{${label(url)}} ${s.latencySumS}`);
      out.push(`deimos_proxy_upstream_latency_seconds_count{${label(url)}} ${s.latencyCount}`);
    }
    if (members !== undefined) out.push(...upstreamUpLines(members));
    out.push(...processLines());
    return `${out.join('\n')}\n`;
  }
}

/**
 * This process's CPU time and resident memory, the usual process series (summed over the workers
 * and the primary, as a member's are; the dashboard's memory chart reads them behind a proxy).
 */
export function processLines(): string[] {
  const cpu = process.cpuUsage();
  return [
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.', '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    '# HELP process_resident_memory_bytes Resident memory size in bytes.', '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
  ];
}

/** A member in the proxy's list, and whether it is skipped after a failure now. */
export interface UpstreamHealth {
  url: string;
  failed: boolean;
}

/** The `upstream` label of a member's series. */
function label(url: string): string {
  return `upstream="${url.replace(/["\\\n]/g, '_')}"`;
}

/** The `deimos_proxy_upstream_up` family: one series a member in the list. */
export function upstreamUpLines(members: readonly UpstreamHealth[]): string[] {
  return [
    '# HELP deimos_proxy_upstream_up 1 when the member is in use, 0 while it is skipped after a failure.',
    '# TYPE deimos_proxy_upstream_up gauge',
    ...members.map((m) => `deimos_proxy_upstream_up{${label(m.url)}} ${m.failed ? 0 : 1}`),
  ];
}

/** The `deimos_proxy_client_connections_limit` family (a proxy's primary reports it for its workers). */
export function connectionLimitLines(limit: number): string[] {
  return [
    '# HELP deimos_proxy_client_connections_limit Most client connections open at once (--max-client-conns).',
    '# TYPE deimos_proxy_client_connections_limit gauge',
    `deimos_proxy_client_connections_limit ${limit}`,
  ];
}
