/**
 * The proxy's keep-alive connections to cluster members. Idle connections are reused last-in
 * first-out and dropped a second before the member's keep-alive timeout, so that a request rarely
 * meets a connection the member is closing. Plain reads are pipelined: once a member has
 * {@link PIPELINE_CONNECTIONS} connections carrying reads, further reads queue behind those (the
 * least loaded one) instead of taking a connection each, because every connection in use costs the
 * proxy and the member a read and a write per request, a pipeline one of each per batch. Writes and
 * watches always get a connection of their own. One client's answer never holds up another's: a
 * connection leaves the pipelining set when its answer is large or long (see member-connection.ts)
 * or its client stops reading, and the reads queued behind a stalled answer are sent again on other
 * connections.
 */
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Endpoint } from './endpoint-pool.js';
import { MemberConnection, type ConnectionOwner, type Exchange, type Ticket } from './member-connection.js';

/**
 * TCP keep-alive on connections to members (etcd's proxy dials with 30 s): a member host that
 * vanished without a FIN or RST is found out, and the watches held on its connection end instead
 * of hanging for ever (a watch has no timeout of its own).
 */
const TCP_KEEPALIVE_MS = 30_000;

export type { Exchange, FailurePhase } from './member-connection.js';

/** Control over an exchange in progress. */
export interface ExchangeHandle {
  /** Ends the exchange: with an error, the connection closes; without one (the client left), only its answer is dropped where others share the connection. */
  abort(error?: Error): void;
  /** The client is not keeping up: holds the answer back, and moves the reads queued behind it elsewhere. */
  pause(): void;
  resume(): void;
  /**
   * The exchange is overdue: true when that is not the member's fault, because it waits behind
   * another request whose answer is under way (a large one, or one its client reads slowly); it has
   * then been sent again on another connection. False when the member itself has not answered.
   */
  unblock(): boolean;
}

/** How to reach members. */
export interface MemberConnectionOptions {
  dialTimeoutMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Idle connections kept per member. */
  maxIdlePerMember?: number;
}

/** Connections carrying pipelined reads per member. */
const PIPELINE_CONNECTIONS = 8;
/** Reads due on one pipelining connection at most; past that a read takes another connection. */
const MAX_PIPELINE_DEPTH = 32;

/** The connections of one proxy to all members. */
export class MemberConnections implements ConnectionOwner {
  private readonly idle = new Map<string, MemberConnection[]>();
  private readonly pipelines = new Map<string, MemberConnection[]>();
  private readonly maxIdle: number;

  constructor(private readonly opts: MemberConnectionOptions, private readonly now: () => number = Date.now) {
    this.maxIdle = opts.maxIdlePerMember ?? 256;
  }

  /**
   * Sends one request to `ep` (head = request line and headers, ending in an empty line); a
   * `pipelined` one (a plain read, whose response ends by itself) may share a connection.
   */
  send(ep: Endpoint, head: string, body: Buffer | undefined, noBody: boolean, exchange: Exchange, pipelined = false): ExchangeHandle {
    const ticket: Ticket = { exchange, head, body, noBody, conn: undefined };
    this.place(ep, ticket, pipelined);
    return {
      abort: (error?: Error) => {
        const conn = ticket.conn!;
        const wasHead = conn.queue[0] === ticket;
        // A client gone from a shared connection: its answer is dropped, the reads behind it go on.
        // Otherwise the connection closes, leaving the pipelining set at once (see close()).
        if (error === undefined && conn.discard(ticket)) {
          if (wasHead) conn.socket.resume(); // it may have been paused for that client
        } else conn.close(error);
      },
      pause: () => {
        const conn = ticket.conn!;
        if (conn.queue[0] === ticket) this.detach(ep, conn);
        conn.socket.pause();
      },
      resume: () => ticket.conn!.socket.resume(),
      unblock: () => {
        const conn = ticket.conn!;
        if (conn.queue.indexOf(ticket) <= 0 || !conn.answering) return false;
        this.detach(ep, conn);
        return true;
      },
    };
  }

  /** Queues `ticket` on a connection to `ep`: a pipelining one if allowed and there are enough, else an idle or new one. */
  private place(ep: Endpoint, ticket: Ticket, pipelined: boolean): void {
    const conn = (pipelined ? this.pipelineOn(ep.url) : undefined) ?? this.takeIdle(ep.url) ?? this.dial(ep);
    conn.start(ticket, pipelined);
    if (conn.pipelined) this.notePipeline(conn);
  }

  /**
   * Gives `conn` to the answer it is reading (whose client is slow): nothing more is queued on it,
   * and the reads already queued behind that answer go to other connections.
   */
  private detach(ep: Endpoint, conn: MemberConnection): void {
    this.unpipeline(conn);
    for (const t of conn.takeFollowers()) this.place(ep, t, true);
  }

  /** The least loaded pipelining connection to `key`, once there are enough of them. */
  private pipelineOn(key: string): MemberConnection | undefined {
    const list = this.pipelines.get(key);
    if (list === undefined || list.length < PIPELINE_CONNECTIONS) return undefined;
    let best: MemberConnection | undefined;
    for (const c of list) {
      if (c.queue.length < MAX_PIPELINE_DEPTH && (best === undefined || c.queue.length < best.queue.length)) best = c;
    }
    return best;
  }

  private notePipeline(conn: MemberConnection): void {
    let list = this.pipelines.get(conn.key);
    if (!list) this.pipelines.set(conn.key, (list = []));
    if (!list.includes(conn)) list.push(conn);
  }

  /** Takes `conn` out of the pipelining set: no further read is queued on it. */
  unpipeline(conn: MemberConnection): void {
    if (!conn.pipelined) return;
    conn.pipelined = false;
    const list = this.pipelines.get(conn.key);
    const i = list ? list.indexOf(conn) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  private dial(ep: Endpoint): MemberConnection {
    const tls = ep.protocol === 'https:';
    const socket = tls
      ? tlsConnect({ host: ep.hostname, port: ep.port, servername: isIP(ep.hostname) ? undefined : ep.hostname, ...this.opts.tls })
      : netConnect({ host: ep.hostname, port: ep.port });
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    return new MemberConnection(socket, ep.url, this, this.opts.dialTimeoutMs, tls);
  }

  private takeIdle(key: string): MemberConnection | undefined {
    const list = this.idle.get(key);
    const now = this.now();
    while (list && list.length > 0) {
      const conn = list.pop()!;
      if (!conn.closed && now < conn.reusableUntilMs) return conn;
      conn.close();
    }
    return undefined;
  }

  /** Puts a connection whose requests all completed back for reuse. */
  release(conn: MemberConnection, keepAliveMs: number): void {
    this.unpipeline(conn);
    if (conn.closed) return;
    let list = this.idle.get(conn.key);
    if (!list) this.idle.set(conn.key, (list = []));
    if (list.length >= this.maxIdle) {
      conn.close();
      return;
    }
    conn.reusableUntilMs = this.now() + Math.max(0, keepAliveMs - 1000);
    list.push(conn);
  }

  /** Drops a closed connection from the lists. */
  forget(conn: MemberConnection): void {
    this.unpipeline(conn);
    const list = this.idle.get(conn.key);
    const i = list ? list.indexOf(conn) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.idle.values()) for (const conn of list) conn.socket.destroy();
    this.idle.clear();
  }
}
