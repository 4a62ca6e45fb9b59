/**
 * A bound on the open TCP connections of a set of listeners (the client URLs, or the peer URLs).
 * Every connection counts from accept to close, whatever serves it: the connection loop, node:http,
 * a parked watch, a TLS handshake. Without a bound, idle connections (one per watch) take every
 * file descriptor of the process, and the member's own files (WAL segments, the state database,
 * snapshots) then fail to open.
 *
 * A connection over the limit is refused clearly rather than by a bare close (node's
 * `server.maxConnections`): on plain HTTP it is answered `503 Service Unavailable` with an etcd-style
 * error body (`{"message":...}`, the shape etcd gives errors outside the keyspace) and `Retry-After`,
 * then closed, so a client sees why and may try another member. The request is read and discarded
 * meanwhile (closing with unread bytes would reset the connection and lose the answer), for at most
 * {@link REFUSAL_LINGER_MS}, and only {@link MAX_LINGERING_REFUSALS} at once: past that, refused
 * connections are closed at once so that a flood cannot hold descriptors through refusals. On TLS
 * listeners there is no plain text to answer in before a handshake, which costs what the bound
 * saves, so they close at once.
 */
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { CounterSeries, MetricsRegistry } from '../metrics/registry.js';
import type { Logger } from '../util/logger.js';
import { LogThrottle } from '../util/log-throttle.js';

/** How long a refused connection is read (and discarded) while its 503 goes out, at most. */
export const REFUSAL_LINGER_MS = 1_000;
/** Refused connections kept open for their answer at once; more are closed without one. */
export const MAX_LINGERING_REFUSALS = 64;
/** Least time between two warnings about refusals. */
const REFUSAL_WARNING_INTERVAL_MS = 10_000;

/** Options of a {@link ConnectionGate}. */
export interface ConnectionGateOptions {
  /** Which listeners it bounds: names the metrics, the log lines and the refusal. */
  side: 'client' | 'peer';
  /** Most connections open at once across the gate's listeners. */
  limit: number;
  logger: Logger;
}

/** See the module comment. */
export class ConnectionGate {
  readonly side: 'client' | 'peer';
  readonly limit: number;
  private openCount = 0;
  private refusedCount = 0;
  private lingering = 0;
  private readonly warning: LogThrottle;
  private readonly answer: string;
  private refusedCounter: CounterSeries | undefined;

  constructor(options: ConnectionGateOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new RangeError(`connection limit must be a positive integer, got ${options.limit}`);
    this.side = options.side;
    this.limit = options.limit;
    this.warning = new LogThrottle(options.logger, REFUSAL_WARNING_INTERVAL_MS);
    const body = JSON.stringify({ message: `too many open ${this.side} connections (limit ${this.limit}); retry later or use another member` }) + '\n';
    this.answer = 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n'
      + `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }

  /** Connections open now. */
  get open(): number {
    return this.openCount;
  }

  /** Connections refused since start. */
  get refused(): number {
    return this.refusedCount;
  }

  /**
   * Puts the gate in front of every `connection` listener `server` has now (install it last), so
   * that a refused connection reaches none of them. `tls`: refuse by closing (see the module comment).
   */
  guard(server: Server, options: { tls: boolean }): void {
    const handlers = server.listeners('connection') as Array<(socket: Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (this.openCount >= this.limit) return this.refuse(socket, options.tls);
      this.openCount++;
      socket.once('close', () => void this.openCount--);
      for (const handle of handlers) handle.call(server, socket);
    });
  }

  /** Registers the gate's gauges and refusal counter, named after its side. */
  registerMetrics(metrics: MetricsRegistry): void {
    const side = this.side;
    metrics.gauge(`deimos_${side}_connections`, `Open ${side} connections (idle and watching ones included).`, () => this.openCount);
    metrics.gauge(`deimos_${side}_connections_limit`, `Most ${side} connections open at once (--max-${side}-conns).`, () => this.limit);
    this.refusedCounter = metrics.counter(`deimos_${side}_connections_refused_total`, `${side} connections refused because --max-${side}-conns were open.`).labels({});
  }

  private refuse(socket: Socket, tls: boolean): void {
    this.refusedCount++;
    this.refusedCounter?.inc();
    this.warning.warn(`refusing ${this.side} connections: the limit is reached`, { open: this.openCount, limit: this.limit, refused: this.refusedCount });
    // A reset or a write to a closed socket must not become an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    if (tls || this.lingering >= MAX_LINGERING_REFUSALS) return void socket.destroy();
    this.lingering++;
    socket.once('close', () => void this.lingering--);
    socket.setTimeout(REFUSAL_LINGER_MS, () => socket.destroy());
    socket.resume();
    socket.end(this.answer);
  }
}
