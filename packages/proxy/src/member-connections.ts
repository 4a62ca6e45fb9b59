/**
 * Keep-alive connections to cluster members and one request/response exchange at a time on each:
 * the request is written as one block, the response read with {@link ResponseParser}. Idle connections
 * are reused last-in first-out and dropped a second before the member's keep-alive timeout, so that a
 * request rarely meets a connection the member is closing.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Endpoint } from './endpoint-pool.js';
import { ResponseParser, type ResponseHead } from './response-parser.js';
import { TurnWriter } from './turn-writer.js';

/** Where an exchange failed: before the request was written, or after. */
export type FailurePhase = 'connect' | 'sent';

/** Callbacks of one exchange. */
export interface Exchange {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
  complete(): void;
  /** No complete response: `phase` says whether the request may have reached the member. */
  failed(error: Error & { code?: string }, phase: FailurePhase, afterHead: boolean): void;
}

/** Control over an exchange in progress. */
export interface ExchangeHandle {
  abort(error?: Error): void;
  pause(): void;
  resume(): void;
}

/** How to reach members. */
export interface MemberConnectionOptions {
  dialTimeoutMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Idle connections kept per member. */
  maxIdlePerMember?: number;
}

const DEFAULT_KEEP_ALIVE_MS = 5000;
/**
 * Connections to a member before plain reads are pipelined on busy ones: each connection costs the
 * proxy and the member a read and a write per request, a pipeline one of each per batch.
 */
const PIPELINE_AFTER_CONNECTIONS = Number(process.env.DEIMOS_PROXY_PIPELINE_AFTER ?? 8);
/** Requests due on one pipelining connection at most. */
const MAX_PIPELINE_DEPTH = 32;

function coded(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** A request written (or queued) on a connection, waiting for its response. */
interface Queued {
  exchange: Exchange;
  noBody: boolean;
}

/** Ignores the response of a request whose client went away (the connection carries others). */
const DISCARD: Exchange = { head: () => undefined, body: () => undefined, complete: () => undefined, failed: () => undefined };

/** One connection to one member: requests in order, their responses in the same order. */
class MemberConnection {
  /** The requests whose responses are due, first one being read. */
  readonly queue: Queued[] = [];
  private sawHead = false;
  private closeAfter = false;
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  reusableUntilMs = 0;
  closed = false;
  /** Only plain requests were sent on it, so more may be pipelined behind them. */
  pipelined = false;
  private lastError: (Error & { code?: string }) | undefined;
  private readonly out: TurnWriter;
  readonly parser = new ResponseParser({
    head: (head) => {
      this.sawHead = true;
      this.closeAfter = head.close;
      if (head.keepAliveTimeoutMs !== undefined) this.keepAliveMs = head.keepAliveTimeoutMs;
      this.queue[0]?.exchange.head(head);
    },
    body: (chunk) => this.queue[0]?.exchange.body(chunk),
    complete: () => {
      const done = this.queue.shift();
      this.sawHead = false;
      if (this.closeAfter) this.socket.destroy();
      else if (this.queue.length > 0) this.parser.reset(this.queue[0]!.noBody); // a pipelined response follows
      else this.owner.release(this, this.keepAliveMs);
      done?.exchange.complete();
    },
  });

  constructor(readonly socket: Socket, readonly key: string, private readonly owner: MemberConnections) {
    this.out = new TurnWriter(socket);
    socket.on('data', (chunk: Buffer) => {
      if (this.queue.length === 0) {
        socket.destroy(); // bytes nobody asked for: the connection cannot be trusted any more
        return;
      }
      try {
        this.parser.execute(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => {
      this.closed = true;
      owner.forget(this);
      // endOfStream() completes a body that ends with the connection (through the sink).
      if (this.queue.length === 0 || this.parser.endOfStream()) return;
      const failed = this.queue.splice(0, this.queue.length);
      const error = this.lastError ?? coded('ECONNRESET', 'the member closed the connection');
      failed.forEach((q, i) => q.exchange.failed(error, 'sent', i === 0 && this.sawHead));
    });
  }

  /** Queues a request (written at the end of the turn); its response goes to `exchange`. */
  start(exchange: Exchange, head: string, body: Buffer | undefined, noBody: boolean, pipelined: boolean): void {
    if (this.queue.length === 0) {
      this.sawHead = false;
      this.closeAfter = false;
      this.lastError = undefined;
      this.parser.reset(noBody);
      this.pipelined = pipelined;
    }
    this.queue.push({ exchange, noBody });
    this.out.queue(head);
    if (body !== undefined && body.length > 0) this.out.bytes(body, false);
  }

  /** Stops passing on the response of `exchange` (its client went away); false when it is not queued here. */
  discard(exchange: Exchange): boolean {
    const q = this.queue.find((x) => x.exchange === exchange);
    if (q === undefined) return false;
    q.exchange = DISCARD;
    return true;
  }
}

/** The connections of one proxy to all members. */
export class MemberConnections {
  private readonly idle = new Map<string, MemberConnection[]>();
  /** Connections carrying pipelined requests, per member. */
  private readonly pipelines = new Map<string, MemberConnection[]>();
  /** Open or opening connections per member. */
  private readonly open = new Map<string, number>();
  private readonly maxIdle: number;

  constructor(private readonly opts: MemberConnectionOptions, private readonly now: () => number = Date.now) {
    this.maxIdle = opts.maxIdlePerMember ?? 256;
  }

  /**
   * Sends one request to `ep` (head = request line and headers, ending in an empty line). A
   * `pipelined` request (a plain read that ends by itself) may follow others on a busy connection
   * once the member has {@link PIPELINE_AFTER_CONNECTIONS} connections; any other gets a connection
   * of its own.
   */
  send(ep: Endpoint, head: string, body: Buffer | undefined, noBody: boolean, exchange: Exchange, pipelined = false): ExchangeHandle {
    let conn = this.takeIdle(ep.url) ?? (pipelined ? this.pipelineOn(ep.url) : undefined);
    let socket: Socket;
    const start = (c: MemberConnection) => {
      conn = c;
      c.start(exchange, head, body, noBody, pipelined);
      if (pipelined) this.notePipeline(c);
    };
    if (conn) {
      socket = conn.socket;
      start(conn);
    } else socket = this.dial(ep, exchange, start);
    return {
      abort: (error?: Error) => {
        // A client gone from a pipelined request: its answer is dropped, the requests behind it go on.
        if (error === undefined && conn?.pipelined && conn.discard(exchange)) {
          socket.resume(); // it may have been paused for that client
          return;
        }
        socket.destroy(error);
      },
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    };
  }

  /** The pipelining connection to `key` with the fewest requests due, if pipelining is due. */
  private pipelineOn(key: string): MemberConnection | undefined {
    if ((this.open.get(key) ?? 0) < PIPELINE_AFTER_CONNECTIONS) return undefined;
    const list = this.pipelines.get(key);
    let best: MemberConnection | undefined;
    for (const c of list ?? []) {
      if (c.closed || !c.pipelined || c.queue.length >= MAX_PIPELINE_DEPTH) continue;
      if (best === undefined || c.queue.length < best.queue.length) best = c;
    }
    return best;
  }

  private notePipeline(conn: MemberConnection): void {
    let list = this.pipelines.get(conn.key);
    if (!list) this.pipelines.set(conn.key, (list = []));
    if (!list.includes(conn)) list.push(conn);
  }

  private dial(ep: Endpoint, exchange: Exchange, onReady: (conn: MemberConnection) => void): Socket {
    const socket: Socket = ep.protocol === 'https:'
      ? tlsConnect({ host: ep.hostname, port: ep.port, servername: isIP(ep.hostname) ? undefined : ep.hostname, ...this.opts.tls })
      : netConnect({ host: ep.hostname, port: ep.port });
    socket.setNoDelay(true);
    this.open.set(ep.url, (this.open.get(ep.url) ?? 0) + 1);
    socket.once('close', () => this.open.set(ep.url, (this.open.get(ep.url) ?? 1) - 1));
    let connected = false;
    const timer = setTimeout(() => socket.destroy(coded('EDIALTIMEOUT', `no connection within ${this.opts.dialTimeoutMs} ms`)), this.opts.dialTimeoutMs);
    let dialError: (Error & { code?: string }) | undefined;
    const onError = (err: Error) => {
      dialError = err;
    };
    const onClose = () => {
      clearTimeout(timer);
      if (!connected) exchange.failed(dialError ?? coded('ECONNREFUSED', 'connection closed while connecting'), 'connect', false);
    };
    socket.on('error', onError);
    socket.once('close', onClose);
    socket.once(ep.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      connected = true;
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      onReady(new MemberConnection(socket, ep.url, this));
    });
    return socket;
  }

  private takeIdle(key: string): MemberConnection | undefined {
    const list = this.idle.get(key);
    const now = this.now();
    while (list && list.length > 0) {
      const conn = list.pop()!;
      if (!conn.closed && now < conn.reusableUntilMs) return conn;
      conn.socket.destroy();
    }
    return undefined;
  }

  /** Puts a connection whose requests all completed back for reuse. */
  release(conn: MemberConnection, keepAliveMs: number): void {
    if (conn.closed) return;
    this.unpipeline(conn);
    let list = this.idle.get(conn.key);
    if (!list) this.idle.set(conn.key, (list = []));
    if (list.length >= this.maxIdle) {
      conn.socket.destroy();
      return;
    }
    conn.reusableUntilMs = this.now() + Math.max(0, keepAliveMs - 1000);
    list.push(conn);
  }

  /** Drops a closed connection from the idle lists. */
  forget(conn: MemberConnection): void {
    const list = this.idle.get(conn.key);
    const i = list ? list.indexOf(conn) : -1;
    if (i >= 0) list!.splice(i, 1);
    this.unpipeline(conn);
  }

  private unpipeline(conn: MemberConnection): void {
    if (!conn.pipelined) return;
    conn.pipelined = false;
    const list = this.pipelines.get(conn.key);
    const i = list ? list.indexOf(conn) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.idle.values()) for (const conn of list) conn.socket.destroy();
    this.idle.clear();
  }
}
