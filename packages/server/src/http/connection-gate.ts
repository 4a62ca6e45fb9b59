/**
 * The member's bounds on open client and peer connections: the gate of @deimos/protocol (shared with
 * the proxy; its module comment tells how connections past the bound are refused), on the member's
 * clock, with the member's metrics.
 */
import { performance } from 'node:perf_hooks';
import { ConnectionGate as ProtocolConnectionGate } from '@deimos/net';
import type { CounterSeries, MetricsRegistry } from '../metrics/registry.js';
import type { Logger } from '../util/logger.js';

/** Options of a {@link ConnectionGate}. */
export interface ConnectionGateOptions {
  /** Which listeners it bounds: names the metrics, the log lines and the refusal. */
  side: 'client' | 'peer';
  /** Most connections open at once across the gate's listeners. */
  limit: number;
  logger: Logger;
}

/** See the module comment. */
export class ConnectionGate extends ProtocolConnectionGate {
  declare readonly side: 'client' | 'peer';
  private refusedCounter: CounterSeries | undefined;

  constructor(options: ConnectionGateOptions) {
    super({ ...options, now: () => performance.now() });
  }

  /** Registers the gate's gauges and refusal counter, named after its side. */
  registerMetrics(metrics: MetricsRegistry): void {
    const side = this.side;
    metrics.gauge(`deimos_${side}_connections`, `Open ${side} connections (idle and watching ones included).`, () => this.open);
    metrics.gauge(`deimos_${side}_connections_limit`, `Most ${side} connections open at once (--max-${side}-conns).`, () => this.limit);
    this.refusedCounter = metrics.counter(`deimos_${side}_connections_refused_total`, `${side} connections refused because --max-${side}-conns were open.`).labels({});
  }

  protected override refusedOne(): void {
    this.refusedCounter?.inc();
  }
}
