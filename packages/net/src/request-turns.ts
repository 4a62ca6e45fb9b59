/**
 * Requests on one connection served by node:http run one at a time, in order, as Go's net/http
 * serves them (etcd, and etcd's proxy, read the next request only once the previous one is
 * answered). node:http answers pipelined requests in order but starts their handlers as soon as it
 * parses them, so a GET pipelined behind a PUT of the same key ran concurrently with it and could
 * read the old value. Here a request starts only once the response of the one before it on the
 * connection has finished (for a write: once it was applied and answered).
 *
 * The member's client port and the proxy both need this; protocol has no node:*, so the few things
 * it does with node:http's request, response and socket come in as {@link TurnIo}.
 */

/** What the ordering does with node:http's objects (see the module comment). */
export interface TurnIo<Req, Res, Conn> {
  /** The connection a request came on. */
  connectionOf(req: Req): Conn;
  /** Calls `done` when the response has finished or was closed (it may call it twice). */
  whenAnswered(res: Res, done: () => void): void;
  /** Whether the request (head and body) has arrived whole. */
  complete(req: Req): boolean;
  /** Whether the connection is gone. */
  closed(conn: Conn): boolean;
  /**
   * Writes raw bytes and closes the connection (leaving the client a moment to read them); later
   * calls for the same connection do nothing.
   */
  closeWith(conn: Conn, answer: string): void;
}

/** What a connection served by node:http is doing. */
class Turns<Req> {
  running = false;
  readonly waiting: Array<() => void> = [];
  /** The latest request node:http parsed on the connection. */
  latest: Req | undefined;
  /** The request whose turn it is. */
  current: Req | undefined;
  /** No request starts any more: the connection ends (with `finalAnswer` once the running one is done). */
  closing = false;
  finalAnswer: string | undefined;
}

/** The ordering wrapper of a node:http request listener; see the module comment. */
export interface RequestTurns<Req, Res, Conn> {
  /** The request listener to give node:http. */
  handler: (req: Req, res: Res) => void;
  /**
   * Writes `answer` (raw bytes) and closes `conn` once the request running on it is answered (at
   * once when none is, or when it is still receiving a body that will never complete); requests waiting for their turn are not served (node:http's parser stopped
   * at an error, or the connection timed out).
   */
  endWith(conn: Conn, answer: string): void;
  /** Whether the latest request node:http parsed on `conn` is still receiving its body. */
  receiving(conn: Conn): boolean;
}

/**
 * Wraps `handler` so that requests on a connection run one at a time. `refuse` is asked at each
 * request's turn: a raw answer it returns is written instead and the connection closed, without
 * serving that request or any after it (Go's answers to requests it will not serve, see
 * go-bad-request.ts).
 */
export function requestTurns<Req, Res, Conn extends object>(
  handler: (req: Req, res: Res) => void,
  refuse: (req: Req) => string | undefined,
  io: TurnIo<Req, Res, Conn>,
): RequestTurns<Req, Res, Conn> {
  const byConnection = new WeakMap<Conn, Turns<Req>>();

  const finishTurn = (conn: Conn, turns: Turns<Req>): void => {
    turns.running = false;
    if (turns.closing || io.closed(conn)) {
      turns.waiting.length = 0;
      if (turns.finalAnswer !== undefined) io.closeWith(conn, turns.finalAnswer);
      turns.finalAnswer = undefined;
      return;
    }
    turns.waiting.shift()?.();
  };

  const start = (turns: Turns<Req>, req: Req, res: Res): void => {
    const conn = io.connectionOf(req);
    turns.running = true;
    turns.current = req;
    let done = false;
    io.whenAnswered(res, () => {
      if (done) return;
      done = true;
      finishTurn(conn, turns);
    });
    const refusal = refuse(req);
    if (refusal !== undefined) {
      turns.closing = true;
      turns.waiting.length = 0;
      io.closeWith(conn, refusal);
      return;
    }
    handler(req, res);
  };

  return {
    handler: (req, res) => {
      const conn = io.connectionOf(req);
      let turns = byConnection.get(conn);
      if (turns === undefined) {
        turns = new Turns<Req>();
        byConnection.set(conn, turns);
      }
      turns.latest = req;
      if (turns.closing) return;
      if (turns.running) {
        const t = turns;
        t.waiting.push(() => start(t, req, res));
      } else start(turns, req, res);
    },
    endWith: (conn, answer) => {
      const turns = byConnection.get(conn);
      if (turns === undefined || !turns.running) return io.closeWith(conn, answer);
      turns.closing = true;
      turns.waiting.length = 0;
      // The running request's body broke off (a framing error, or the client's EOF mid-body): it
      // can never complete nor be applied, and its answer would never come. Answer now.
      if (turns.current !== undefined && !io.complete(turns.current)) return io.closeWith(conn, answer);
      turns.finalAnswer = answer;
    },
    receiving: (conn) => {
      const latest = byConnection.get(conn)?.latest;
      return latest !== undefined && !io.complete(latest);
    },
  };
}

/** How long a connection closed after a raw answer may stay half-open for the client to read it. */
export const CLOSE_GRACE_MS = 1000;

/** The parts of node:http's request, response and socket the ordering uses (structural: protocol has no node:*). */
export interface HttpTurnSocket {
  readonly destroyed: boolean;
  readonly writable: boolean;
  on(event: 'error', listener: () => void): unknown;
  end(data: string): unknown;
  destroy(): unknown;
}
export interface HttpTurnRequest<S extends HttpTurnSocket> {
  readonly socket: S;
  readonly complete: boolean;
}
export interface HttpTurnResponse {
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * The {@link TurnIo} of node:http; `later` runs a function after some milliseconds without keeping the
 * process alive (setTimeout(...).unref()), for the grace before a raw answer's connection is destroyed.
 */
export function httpTurnIo<S extends HttpTurnSocket, Req extends HttpTurnRequest<S>, Res extends HttpTurnResponse>(
  later: (fn: () => void, ms: number) => void,
): TurnIo<Req, Res, S> {
  // node:http keeps feeding a connection's bytes to a parser that has failed, and reports each chunk
  // as another 'clientError': a connection is closed with an answer once, or every chunk would add
  // an 'error' listener (MaxListenersExceededWarning past ten), an end and a destroy timer.
  const closing = new WeakSet<S>();
  return {
    connectionOf: (req) => req.socket,
    whenAnswered: (res, done) => {
      res.once('finish', done);
      res.once('close', done);
    },
    complete: (req) => req.complete,
    closed: (socket) => socket.destroyed,
    closeWith: (socket, answer) => {
      if (socket.destroyed || closing.has(socket)) return;
      closing.add(socket);
      // The client may reset while the answer goes out; an 'error' without a listener would end the process.
      socket.on('error', () => socket.destroy());
      if (socket.writable) socket.end(answer);
      later(() => socket.destroy(), CLOSE_GRACE_MS);
    },
  };
}
