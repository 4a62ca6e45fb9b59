/**
 * A bound on the open TCP connections of a set of listeners (a member's client URLs or peer URLs,
 * or a proxy's listen URLs). Every connection counts from accept to close, whatever serves it: a
 * connection loop, node:http, a parked watch, a TLS handshake. Without a bound, idle connections
 * (one per watch) take every file descriptor of the process, and whatever else it must open (a
 * member's WAL segments and database, a proxy's connections to the members) then fails.
 *
 * A connection over the limit is refused clearly rather than by a bare close (node's
 * `server.maxConnections`): on plain HTTP it is answered `503 Service Unavailable` with an etcd-style
 * error body (`{"message":...}`, the shape etcd gives errors outside the keyspace) and `Retry-After`,
 * then closed, so a client sees why and may try elsewhere. The request is read and discarded
 * meanwhile (closing with unread bytes would reset the connection and lose the answer), for at most
 * {@link REFUSAL_LINGER_MS}, and only {@link MAX_LINGERING_REFUSALS} at once: past that, refused
 * connections are closed at once so that a flood cannot hold descriptors through refusals. On TLS
 * listeners there is no plain text to answer in before a handshake, which costs what the bound
 * saves, so they close at once.
 *
 * Protocol has no node:*: the gate sees node's server and sockets through the few methods it calls
 * ({@link GatedServer}, {@link GatedSocket}), and the clock comes in with the options.
 */
import { LogThrottle, type WarningSink } from './log-throttle.js';

/** How long a refused connection is read (and discarded) while its 503 goes out, at most. */
export const REFUSAL_LINGER_MS = 1_000;
/** Refused connections kept open for their answer at once; more are closed without one. */
export const MAX_LINGERING_REFUSALS = 64;
/** Least time between two warnings about refusals. */
const REFUSAL_WARNING_INTERVAL_MS = 10_000;

/**
 * A bound shared with other processes (a member's client workers): every connection this gate
 * accepts under its own limit also needs a slot from the shared bound before it is served.
 */
export interface ConnectionAdmission {
  /**
   * Asks for one slot; `done(true)` grants it (give it back with {@link release}), `done(false)`
   * refuses: for the limit, or with `reason` when the bound's keeper did not answer.
   */
  acquire(done: (granted: boolean, reason?: string) => void): void;
  /** Gives back one granted slot (its connection closed). */
  release(): void;
}

/** What the gate calls on an accepted connection (a node:net Socket). */
export interface GatedSocket {
  once(event: 'close' | 'end', listener: () => void): unknown;
  off(event: 'close' | 'end' | 'error', listener: () => void): unknown;
  on(event: 'error', listener: () => void): unknown;
  destroy(): unknown;
  setTimeout(ms: number, listener: () => void): unknown;
  resume(): unknown;
  end(data: string): unknown;
}

/** What the gate calls on a listener (a node:net Server). */
export interface GatedServer<S extends GatedSocket> {
  listeners(event: 'connection'): Function[];
  removeAllListeners(event: 'connection'): unknown;
  on(event: 'connection', listener: (socket: S) => void): unknown;
}

/** Options of a {@link ConnectionGate}. */
export interface ConnectionGateOptions {
  /** Which listeners it bounds: names the log lines and the refusal (`client`, `peer`). */
  side: string;
  /** Most connections open at once across the gate's listeners. */
  limit: number;
  /** Where refusals are reported (throttled). */
  logger: WarningSink;
  /** A monotonic clock in milliseconds (performance.now), for the warning throttle. */
  now: () => number;
  /** What the refusal tells the client to do (default: "retry later or use another member"). */
  advice?: string;
  /**
   * A shared bound asked for each connection before it is served; a refused one is answered as
   * past this gate's own limit. The connection waits for the answer unread (its bytes stay queued).
   */
  admission?: ConnectionAdmission;
}

/** See the module comment. */
export class ConnectionGate {
  readonly side: string;
  readonly limit: number;
  private openCount = 0;
  private refusedCount = 0;
  private lingering = 0;
  private readonly warning: LogThrottle;
  private readonly answer: string;
  private readonly advice: string;
  private readonly admission: ConnectionAdmission | undefined;

  constructor(options: ConnectionGateOptions) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new RangeError(`connection limit must be a positive integer, got ${options.limit}`);
    this.side = options.side;
    this.limit = options.limit;
    this.admission = options.admission;
    this.warning = new LogThrottle(options.logger, REFUSAL_WARNING_INTERVAL_MS, options.now);
    this.advice = options.advice ?? 'retry later or use another member';
    this.answer = refusalAnswer(`too many open ${this.side} connections (limit ${this.limit}); ${this.advice}`);
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
  guard<S extends GatedSocket>(server: GatedServer<S>, options: { tls: boolean }): void {
    const handlers = server.listeners('connection') as Array<(socket: S) => void>;
    server.removeAllListeners('connection');
    const serve = (socket: S): void => {
      for (const handle of handlers) handle.call(server, socket);
    };
    server.on('connection', (socket: S) => {
      if (this.openCount >= this.limit) return this.refuse(socket, options.tls);
      this.openCount++;
      const admission = this.admission;
      if (admission === undefined) {
        socket.once('close', () => void this.openCount--);
        return serve(socket);
      }
      // Until the shared bound answers, nothing takes the socket's bytes; a close or an error
      // meanwhile (no handler is attached yet to take it) only marks it gone. So does the peer's
      // end: it is emitted only once nothing is buffered, so the peer sent nothing and asks for
      // nothing, and a handler attached after it would never see it (node:http, TLS and the
      // connection loop would hold the connection open).
      let gone = false;
      const onGone = (): void => {
        if (gone) return;
        gone = true;
        this.openCount--;
        socket.destroy();
      };
      socket.once('close', onGone);
      socket.once('end', onGone);
      socket.on('error', onGone);
      admission.acquire((granted, reason) => {
        socket.off('close', onGone);
        socket.off('end', onGone);
        socket.off('error', onGone);
        if (gone) {
          if (granted) admission.release();
          return;
        }
        if (!granted) {
          this.openCount--;
          return this.refuse(socket, options.tls, reason);
        }
        socket.once('close', () => {
          this.openCount--;
          admission.release();
        });
        serve(socket);
      });
    });
  }

  /** Called on each refusal, after it is counted (metrics). */
  protected refusedOne(): void {}

  private refuse(socket: GatedSocket, tls: boolean, reason?: string): void {
    this.refusedCount++;
    this.refusedOne();
    if (reason === undefined) this.warning.warn(`refusing ${this.side} connections: the limit is reached`, { open: this.openCount, limit: this.limit, refused: this.refusedCount });
    else this.warning.warn(`refusing ${this.side} connections: ${reason}`, { refused: this.refusedCount });
    // A reset or a write to a closed socket must not become an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    if (tls || this.lingering >= MAX_LINGERING_REFUSALS) return void socket.destroy();
    this.lingering++;
    socket.once('close', () => void this.lingering--);
    socket.setTimeout(REFUSAL_LINGER_MS, () => socket.destroy());
    socket.resume();
    socket.end(reason === undefined ? this.answer : refusalAnswer(`${reason}; ${this.advice}`));
  }
}

/** The 503 a refused connection gets (then the close). */
function refusalAnswer(message: string): string {
  const body = JSON.stringify({ message }) + '\n';
  return 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n'
    + `Connection: close\r\nContent-Length: ${byteLength(body)}\r\n\r\n${body}`;
}

/** UTF-8 length of `text` (protocol has no Buffer). */
function byteLength(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}
