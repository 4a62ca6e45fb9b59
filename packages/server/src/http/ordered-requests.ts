/**
 * Requests on one connection served by node:http run one at a time, in order, as Go's net/http
 * serves them (etcd reads the next request only once the previous one is answered). node:http
 * answers pipelined requests in order but starts their handlers as soon as it parses them, so a GET
 * pipelined behind a PUT of the same key ran concurrently with it and could read the old value. Here
 * a request starts only once the response of the one before it on the connection has finished (for
 * a write: once it was applied and answered).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection closed after a raw answer may stay half-open for the client to read it. */
const CLOSE_GRACE_MS = 1000;

/** What a connection served by node:http is doing. */
class Turns {
  running = false;
  readonly waiting: Array<() => void> = [];
  /** The latest request node:http parsed on the connection. */
  latest: IncomingMessage | undefined;
  /** The request whose turn it is. */
  current: IncomingMessage | undefined;
  /** No request starts any more: the connection ends (with `finalAnswer` once the running one is done). */
  closing = false;
  finalAnswer: string | undefined;
}

/** The ordering wrapper of a node:http request listener; see the module comment. */
export interface OrderedRequests {
  /** The request listener to give node:http. */
  handler: RequestListener;
  /**
   * Writes `answer` (raw bytes) and closes `socket` once the request running on it is answered (at
   * once when none is, or when it is still receiving a body that will never complete); requests waiting for their turn are not served (node:http's parser stopped
   * at an error, or the connection timed out).
   */
  endWith(socket: Socket, answer: string): void;
  /** Whether the latest request node:http parsed on `socket` is still receiving its body. */
  receiving(socket: Socket): boolean;
}

/**
 * Wraps `handler` so that requests on a connection run one at a time. `refuse` is asked at each
 * request's turn: a raw answer it returns is written instead and the connection closed, without
 * serving that request or any after it (Go's answers to requests it will not serve, see
 * go-bad-request.ts).
 */
export function orderedRequests(handler: RequestListener, refuse: (req: IncomingMessage) => string | undefined): OrderedRequests {
  const bySocket = new WeakMap<Socket, Turns>();

  const finishTurn = (socket: Socket, turns: Turns): void => {
    turns.running = false;
    if (turns.closing || socket.destroyed) {
      turns.waiting.length = 0;
      if (turns.finalAnswer !== undefined) closeWith(socket, turns.finalAnswer);
      turns.finalAnswer = undefined;
      return;
    }
    turns.waiting.shift()?.();
  };

  const start = (turns: Turns, req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    turns.running = true;
    turns.current = req;
    let done = false;
    const next = (): void => {
      if (done) return;
      done = true;
      finishTurn(socket, turns);
    };
    res.once('finish', next);
    res.once('close', next);
    const refusal = refuse(req);
    if (refusal !== undefined) {
      turns.closing = true;
      turns.waiting.length = 0;
      closeWith(socket, refusal);
      return;
    }
    handler(req, res);
  };

  return {
    handler: (req, res) => {
      const socket = req.socket;
      let turns = bySocket.get(socket);
      if (turns === undefined) {
        turns = new Turns();
        bySocket.set(socket, turns);
      }
      turns.latest = req;
      if (turns.closing) return;
      if (turns.running) {
        const t = turns;
        t.waiting.push(() => start(t, req, res));
      } else start(turns, req, res);
    },
    endWith: (socket, answer) => {
      const turns = bySocket.get(socket);
      if (turns === undefined || !turns.running) return closeWith(socket, answer);
      turns.closing = true;
      turns.waiting.length = 0;
      // The running request's body broke off (a framing error, or the client's EOF mid-body): it
      // can never complete nor be applied, and its answer would never come. Answer now.
      if (turns.current !== undefined && !turns.current.complete) return closeWith(socket, answer);
      turns.finalAnswer = answer;
    },
    receiving: (socket) => {
      const latest = bySocket.get(socket)?.latest;
      return latest !== undefined && !latest.complete;
    },
  };
}

/** Writes `answer` and closes the connection, leaving the client a moment to read it. */
function closeWith(socket: Socket, answer: string): void {
  if (socket.destroyed) return;
  // The client may reset while the answer goes out; an 'error' without a listener would end the process.
  socket.on('error', () => socket.destroy());
  if (socket.writable) socket.end(answer);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}
