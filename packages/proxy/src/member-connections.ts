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

function coded(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** One connection to one member. */
class MemberConnection {
  exchange: Exchange | undefined;
  private sawHead = false;
  private closeAfter = false;
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  reusableUntilMs = 0;
  closed = false;
  private lastError: (Error & { code?: string }) | undefined;
  readonly parser = new ResponseParser({
    head: (head) => {
      this.sawHead = true;
      this.closeAfter = head.close;
      if (head.keepAliveTimeoutMs !== undefined) this.keepAliveMs = head.keepAliveTimeoutMs;
      this.exchange?.head(head);
    },
    body: (chunk) => this.exchange?.body(chunk),
    complete: () => {
      const ex = this.exchange;
      this.exchange = undefined;
      if (this.closeAfter) this.socket.destroy();
      else this.owner.release(this, this.keepAliveMs);
      ex?.complete();
    },
  });

  constructor(readonly socket: Socket, readonly key: string, private readonly owner: MemberConnections) {
    socket.on('data', (chunk: Buffer) => {
      if (!this.exchange) {
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
      if (!this.exchange || this.parser.endOfStream()) return;
      const ex = this.exchange;
      this.exchange = undefined;
      ex.failed(this.lastError ?? coded('ECONNRESET', 'the member closed the connection'), 'sent', this.sawHead);
    });
  }

  /** Writes a request; the response goes to `exchange`. */
  start(exchange: Exchange, head: string, body: Buffer | undefined, noBody: boolean): void {
    this.exchange = exchange;
    this.sawHead = false;
    this.closeAfter = false;
    this.lastError = undefined;
    this.parser.reset(noBody);
    if (body === undefined || body.length === 0) this.socket.write(head, 'latin1');
    else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    }
  }
}

/** The connections of one proxy to all members. */
export class MemberConnections {
  private readonly idle = new Map<string, MemberConnection[]>();
  private readonly maxIdle: number;

  constructor(private readonly opts: MemberConnectionOptions, private readonly now: () => number = Date.now) {
    this.maxIdle = opts.maxIdlePerMember ?? 256;
  }

  /** Sends one request to `ep` (head = request line and headers, ending in an empty line). */
  send(ep: Endpoint, head: string, body: Buffer | undefined, noBody: boolean, exchange: Exchange): ExchangeHandle {
    const reused = this.takeIdle(ep.url);
    let socket: Socket;
    if (reused) {
      socket = reused.socket;
      reused.start(exchange, head, body, noBody);
    } else {
      socket = this.dial(ep, exchange, (conn) => conn.start(exchange, head, body, noBody));
    }
    return {
      abort: (error?: Error) => socket.destroy(error),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    };
  }

  private dial(ep: Endpoint, exchange: Exchange, onReady: (conn: MemberConnection) => void): Socket {
    const socket: Socket = ep.protocol === 'https:'
      ? tlsConnect({ host: ep.hostname, port: ep.port, servername: isIP(ep.hostname) ? undefined : ep.hostname, ...this.opts.tls })
      : netConnect({ host: ep.hostname, port: ep.port });
    socket.setNoDelay(true);
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

  /** Puts a connection whose exchange completed back for reuse. */
  release(conn: MemberConnection, keepAliveMs: number): void {
    if (conn.closed) return;
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
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.idle.values()) for (const conn of list) conn.socket.destroy();
    this.idle.clear();
  }
}
