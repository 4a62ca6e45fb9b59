/**
 * The member's bounds on open client and peer connections: the gate of @deimos/protocol (shared with
 * the proxy; its module comment tells how connections past the bound are refused), on the member's
 * clock, with the member's metrics.
 */
import { performance } from 'node:perf_hooks';
import { ConnectionGate as ProtocolConnectionGate, type ConnectionAdmission } from '@deimos/net';
import type { CounterSeries, MetricsRegistry } from '../metrics/registry.js';
import type { Logger } from '../util/logger.js';

/** Options of a {@link ConnectionGate}. */
export interface ConnectionGateOptions {
  /** Which listeners it bounds: names the metrics, the log lines and the refusal. */
  side: 'client' | 'peer';
  /** Most connections open at once across the gate's listeners. */
  limit: number;
  logger: Logger;
  /** The member-wide bound a client worker asks for each connection (see @deimos/net's gate). */
  admission?: ConnectionAdmission;
}

/** See the module comment. */
export class ConnectionGate extends ProtocolConnectionGate {
  declare readonly side: 'client' | 'peer';
  private refusedCounter: CounterSeries | undefined;

  constructor(options: ConnectionGateOptions) {
    super({ ...options, now: () => performance.now() });
  }

  /**
   * Registers the gate's gauges and refusal counter, named after its side. A client worker leaves
   * the limit to its primary (`withLimit: false`): the worker texts are summed into one.
   */
  registerMetrics(metrics: MetricsRegistry, withLimit = true): void {
    const side = this.side;
    metrics.gauge(`deimos_${side}_connections`, `Open ${side} connections (idle and watching ones included).`, () => this.open);
    if (withLimit) registerConnectionLimit(metrics, side, this.limit);
    this.refusedCounter = metrics.counter(`deimos_${side}_connections_refused_total`, `${side} connections refused because --max-${side}-conns were open.`).labels({});
  }

  protected override refusedOne(): void {
    this.refusedCounter?.inc();
  }
}

/** The `deimos_<side>_connections_limit` gauge (registered by the primary for its client workers too). */
export function registerConnectionLimit(metrics: MetricsRegistry, side: 'client' | 'peer', limit: number): void {
  metrics.gauge(`deimos_${side}_connections_limit`, `Most ${side} connections open at once (--max-${side}-conns).`, () => limit);
}
